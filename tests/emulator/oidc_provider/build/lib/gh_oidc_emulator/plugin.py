from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)


class OidcProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::IAM::OIDCProvider"

    def __init__(self):
        self.factory: type[ResourceProvider] | None = None

    def load(self):
        from gh_oidc_emulator.oidc_provider import OidcProvider

        self.factory = OidcProvider

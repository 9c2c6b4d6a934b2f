"""CloudFormation handlers for AWS::IAM::OIDCProvider, backed by the emulator's real IAM state.

Tests steer the handlers per account through files in the directory GH_OIDC_EMULATOR_CONTROL_DIR:
`<account>.delay` holds seconds every handler waits (so stack states can be met in progress),
`<account>.fail-update` makes updates fail (so an update rolls back, and its rollback fails too),
and `<account>.fail-delete` makes deletion fail. GH_OIDC_EMULATOR_DELAY
(seconds) slows every account down, for benchmarks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
    ResourceRequest,
)


def _control(request: ResourceRequest, name: str) -> str | None:
    directory = os.environ.get("GH_OIDC_EMULATOR_CONTROL_DIR")
    path = os.path.join(directory, f"{request.account_id}.{name}") if directory else None
    if path and os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    return None


def _pause(request: ResourceRequest) -> None:
    delay = float(_control(request, "delay") or os.environ.get("GH_OIDC_EMULATOR_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)


def _refusal(request: ResourceRequest, operation: str) -> ProgressEvent | None:
    """Waits as told, then fails the operation if `<account>.fail-<operation>` exists."""
    _pause(request)
    if _control(request, f"fail-{operation}") is None:
        return None
    return ProgressEvent(
        status=OperationStatus.FAILED,
        resource_model=request.desired_state,
        message=f"the test harness refuses to {operation} this provider",
    )


def _tag_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


class OidcProvider(ResourceProvider[dict]):
    TYPE = "AWS::IAM::OIDCProvider"
    SCHEMA = util.get_schema_path(Path(__file__))

    def create(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        _pause(request)
        model = request.desired_state
        iam = request.aws_client_factory.iam
        params = {
            "Url": model["Url"],
            "ClientIDList": model.get("ClientIdList", []),
            "ThumbprintList": model.get("ThumbprintList", []),
        }
        if model.get("Tags"):
            params["Tags"] = model["Tags"]
        model["Arn"] = iam.create_open_id_connect_provider(**params)["OpenIDConnectProviderArn"]
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        model = request.desired_state
        found = request.aws_client_factory.iam.get_open_id_connect_provider(
            OpenIDConnectProviderArn=model["Arn"]
        )
        model["ClientIdList"] = found.get("ClientIDList", [])
        model["ThumbprintList"] = found.get("ThumbprintList", [])
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def update(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        refused = _refusal(request, "update")
        if refused:
            return refused
        model = request.desired_state
        before = request.previous_state or {}
        arn = before["Arn"]
        model["Arn"] = arn
        iam = request.aws_client_factory.iam

        wanted, had = set(model.get("ClientIdList", [])), set(before.get("ClientIdList", []))
        for client_id in sorted(wanted - had):
            iam.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=client_id
            )
        for client_id in sorted(had - wanted):
            iam.remove_client_id_from_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=client_id
            )

        if model.get("ThumbprintList", []) != before.get("ThumbprintList", []):
            iam.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=arn, ThumbprintList=model.get("ThumbprintList", [])
            )

        new_tags, old_tags = _tag_dict(model.get("Tags")), _tag_dict(before.get("Tags"))
        removed = sorted(set(old_tags) - set(new_tags))
        if removed:
            iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=removed)
        changed = [{"Key": k, "Value": v} for k, v in new_tags.items() if old_tags.get(k) != v]
        if changed:
            iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=changed)

        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def delete(self, request: ResourceRequest[dict]) -> ProgressEvent[dict]:
        refused = _refusal(request, "delete")
        if refused:
            return refused
        arn = request.desired_state.get("Arn") or (request.previous_state or {}).get("Arn")
        iam = request.aws_client_factory.iam
        try:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except iam.exceptions.NoSuchEntityException:
            pass
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model={})

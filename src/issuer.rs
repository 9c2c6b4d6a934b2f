//! Who issues the tokens (github.com, GitHub Enterprise Cloud with its own issuer, GitHub
//! Enterprise Server, GHE.com data residency) and which AWS partition receives them. The
//! provider URL, its ARN, the trust policy's condition keys and its principal all follow from
//! these two, so they can never disagree.

use crate::error::{Error, Result};

pub const GITHUB_DOT_COM: &str = "https://token.actions.githubusercontent.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    url: String,
    kind: IssuerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerKind {
    GitHubDotCom,
    /// GitHub Enterprise Cloud with an enterprise-specific issuer (`.../<slug>`).
    EnterpriseCloud,
    /// GitHub Enterprise Server (`https://HOST/_services/token`).
    EnterpriseServer,
    /// GHE.com data residency (`https://token.actions.SUBDOMAIN.ghe.com`).
    DataResidency,
}

impl Default for Issuer {
    fn default() -> Self {
        Issuer { url: GITHUB_DOT_COM.to_string(), kind: IssuerKind::GitHubDotCom }
    }
}

impl Issuer {
    /// Checks an `--issuer-url`. Scheme and host are case-insensitive and a trailing slash is
    /// dropped: the provider URL is then written the one way IAM and the tokens spell it.
    pub fn parse(raw: &str) -> Result<Issuer> {
        let bad = |why: &str| {
            Error::input(format!(
                "--issuer-url '{raw}': {why}; expected {GITHUB_DOT_COM}, {GITHUB_DOT_COM}/ENTERPRISE, \
                 https://HOST/_services/token (GitHub Enterprise Server) or https://token.actions.SUBDOMAIN.ghe.com"
            ))
        };
        let rest = raw
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
            .map(|_| &raw[8..])
            .ok_or_else(|| bad("the issuer URL starts with https://"))?;
        let rest = rest.trim_end_matches('/');
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.to_ascii_lowercase();
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')) {
            return Err(bad("the host name is not valid"));
        }
        let kind = match (host.as_str(), path) {
            ("token.actions.githubusercontent.com", "") => IssuerKind::GitHubDotCom,
            ("token.actions.githubusercontent.com", slug) if is_slug(slug) => IssuerKind::EnterpriseCloud,
            (_, "_services/token") => IssuerKind::EnterpriseServer,
            (h, "")
                if h.strip_prefix("token.actions.").and_then(|r| r.strip_suffix(".ghe.com")).is_some_and(is_slug) =>
            {
                IssuerKind::DataResidency
            }
            _ => return Err(bad("this is not a GitHub Actions token issuer")),
        };
        let url = if path.is_empty() { format!("https://{host}") } else { format!("https://{host}/{path}") };
        Ok(Issuer { url, kind })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kind(&self) -> IssuerKind {
        self.kind
    }

    /// The URL without its scheme: the provider ARN's suffix and the condition-key prefix.
    pub fn host_path(&self) -> &str {
        &self.url["https://".len()..]
    }

    /// `token.actions.githubusercontent.com:sub`
    pub fn condition_key(&self, claim: &str) -> String {
        format!("{}:{claim}", self.host_path())
    }

    /// The provider ARN for this issuer in `account`.
    pub fn provider_arn(&self, partition: Partition, account: &str) -> String {
        format!("arn:{}:iam::{account}:oidc-provider/{}", partition.name(), self.host_path())
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The AWS partition a region belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Partition {
    #[default]
    Aws,
    China,
    GovCloud,
}

impl Partition {
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else {
            Partition::Aws
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
        }
    }

    /// What aws-actions/configure-aws-credentials requests in this partition.
    pub fn default_audience(self) -> &'static str {
        match self {
            Partition::China => "sts.amazonaws.com.cn",
            Partition::Aws | Partition::GovCloud => "sts.amazonaws.com",
        }
    }

    pub fn console_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::China => "console.amazonaws.cn",
            Partition::GovCloud => "console.amazonaws-us-gov.com",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_github_issuer_is_recognised_and_normalised() {
        for (raw, url, kind) in [
            ("https://token.actions.githubusercontent.com", GITHUB_DOT_COM, IssuerKind::GitHubDotCom),
            ("HTTPS://Token.Actions.GitHubUserContent.com/", GITHUB_DOT_COM, IssuerKind::GitHubDotCom),
            (
                "https://token.actions.githubusercontent.com/octo-enterprise",
                "https://token.actions.githubusercontent.com/octo-enterprise",
                IssuerKind::EnterpriseCloud,
            ),
            (
                "https://ghe.example.com/_services/token",
                "https://ghe.example.com/_services/token",
                IssuerKind::EnterpriseServer,
            ),
            (
                "https://token.actions.octocorp.ghe.com",
                "https://token.actions.octocorp.ghe.com",
                IssuerKind::DataResidency,
            ),
        ] {
            let issuer = Issuer::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!((issuer.url(), issuer.kind()), (url, kind), "{raw}");
        }
    }

    #[test]
    fn keys_and_arns_follow_the_issuer() {
        let ghes = Issuer::parse("https://ghe.example.com/_services/token").unwrap();
        assert_eq!(ghes.condition_key("sub"), "ghe.example.com/_services/token:sub");
        assert_eq!(
            ghes.provider_arn(Partition::GovCloud, "111122223333"),
            "arn:aws-us-gov:iam::111122223333:oidc-provider/ghe.example.com/_services/token"
        );
        let slug = Issuer::parse("https://token.actions.githubusercontent.com/octo").unwrap();
        assert_eq!(slug.condition_key("aud"), "token.actions.githubusercontent.com/octo:aud");
        assert_eq!(Issuer::default().condition_key("sub"), "token.actions.githubusercontent.com:sub");
    }

    #[test]
    fn other_urls_are_refused() {
        for raw in [
            "http://token.actions.githubusercontent.com",
            "token.actions.githubusercontent.com",
            "https://example.com",
            "https://token.actions.githubusercontent.com/a/b",
            "https://ghe.example.com/_services",
            "https://accounts.google.com",
        ] {
            let err = Issuer::parse(raw).unwrap_err();
            assert!(err.message.starts_with(&format!("--issuer-url '{raw}':")), "{}", err.message);
        }
    }

    #[test]
    fn the_partition_follows_the_region() {
        assert_eq!(Partition::of_region("us-east-1"), Partition::Aws);
        assert_eq!(Partition::of_region("cn-north-1").name(), "aws-cn");
        assert_eq!(Partition::of_region("cn-northwest-1").default_audience(), "sts.amazonaws.com.cn");
        assert_eq!(Partition::of_region("us-gov-west-1").name(), "aws-us-gov");
        assert_eq!(Partition::of_region("us-gov-west-1").default_audience(), "sts.amazonaws.com");
    }
}

//! What the user asked for, checked against IAM's and CloudFormation's rules before anything
//! is sent to AWS, with the defaults filled in.

use crate::cli::SpecArgs;
use crate::error::{Error, Result};
use crate::subject::Subject;

pub const ISSUER_URL: &str = "https://token.actions.githubusercontent.com";
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
pub const PROVIDER_STACK_NAME: &str = "gh-oidc-provider";

const ROLE_NAME_MAX: usize = 64;
const STACK_NAME_MAX: usize = 128;
const TAGS_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub stack_name: String,
    pub audience: String,
    pub provider: ProviderChoice,
    pub role: Option<Role>,
    pub tags: Vec<Tag>,
}

/// Where the role's trust comes from, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderChoice {
    /// Use the account's provider for the issuer if there is one, else create it.
    Discover,
    /// `--provider-arn`: trust exactly this provider.
    Given(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Spec {
    pub fn from_args(args: &SpecArgs) -> Result<Spec> {
        let subjects =
            args.repo_patterns.iter().map(|p| Subject::parse("--repo-pattern", p)).collect::<Result<Vec<_>>>()?;

        let role = match (subjects.first(), &args.role_name) {
            (None, Some(name)) => {
                return Err(Error::input(format!(
                    "--role-name '{name}': a role needs at least one --repo-pattern saying which workflows may assume it"
                )));
            }
            (None, None) => None,
            (Some(first), name) => {
                let name = match name {
                    Some(name) => validate_role_name(name)?.to_string(),
                    None => default_role_name(first),
                };
                Some(Role { name, subjects })
            }
        };

        let provider = match &args.provider_arn {
            Some(arn) => {
                validate_provider_arn(arn)?;
                if role.is_none() {
                    return Err(Error::input(format!(
                        "--provider-arn '{arn}': nothing to deploy with an existing provider and no role; add --repo-pattern"
                    )));
                }
                ProviderChoice::Given(arn.clone())
            }
            None => ProviderChoice::Discover,
        };

        let stack_name = match &args.stack_name {
            Some(name) => validate_stack_name(name)?.to_string(),
            None => default_stack_name(role.as_ref()),
        };

        Ok(Spec {
            stack_name,
            audience: validate_audience(&args.audience)?.to_string(),
            provider,
            role,
            tags: parse_tags(&args.tags)?,
        })
    }
}

/// `gh-oidc-OWNER-REPO`, cut to IAM's 64 characters.
fn default_role_name(subject: &Subject) -> String {
    let name = format!("gh-oidc-{}-{}", subject.owner, subject.repo);
    // GitHub owner and repository names use only characters IAM allows in role names, and only
    // ASCII, so a byte cut to the length limit is all that is needed.
    name[..name.len().min(ROLE_NAME_MAX)].trim_end_matches(['-', '.', '_']).to_string()
}

/// A role's stack is named after the role, in the narrower stack-name alphabet.
fn default_stack_name(role: Option<&Role>) -> String {
    let Some(role) = role else {
        return PROVIDER_STACK_NAME.to_string();
    };
    let mut name: String = role.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "gh-oidc-");
    }
    name.truncate(STACK_NAME_MAX);
    name
}

pub fn validate_stack_name(name: &str) -> Result<&str> {
    let ok = name.len() <= STACK_NAME_MAX
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(name)
    } else {
        Err(Error::input(format!(
            "--stack-name '{name}': a stack name starts with a letter and holds only letters, digits and '-' \
             (at most {STACK_NAME_MAX} characters)"
        )))
    }
}

fn validate_role_name(name: &str) -> Result<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.len() > ROLE_NAME_MAX || !name.chars().all(allowed) {
        return Err(Error::input(format!(
            "--role-name '{name}': a role name is 1 to {ROLE_NAME_MAX} letters, digits and '+=,.@_-'"
        )));
    }
    Ok(name)
}

fn validate_audience(audience: &str) -> Result<&str> {
    if audience.is_empty() || audience.chars().any(char::is_whitespace) || audience.len() > 255 {
        return Err(Error::input(format!(
            "--audience '{audience}': give the audience your workflow requests, usually '{DEFAULT_AUDIENCE}'"
        )));
    }
    Ok(audience)
}

/// `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH]`
fn validate_provider_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(),
        ["arn", "aws" | "aws-cn" | "aws-us-gov", "iam", "", account, resource]
            if account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("oidc-provider/").is_some_and(|host| !host.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "--provider-arn '{arn}': expected arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST, \
             e.g. arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
        )))
    }
}

fn parse_tags(raw: &[String]) -> Result<Vec<Tag>> {
    if raw.len() > TAGS_MAX {
        return Err(Error::input(format!("--tag: {} tags given; AWS allows at most {TAGS_MAX}", raw.len())));
    }
    let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
    for item in raw {
        let bad = |why: &str| Error::input(format!("--tag '{item}': {why}"));
        let (key, value) = item.split_once('=').ok_or_else(|| bad("expected KEY=VALUE, e.g. --tag team=platform"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(bad("the key must be 1 to 128 characters"));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(bad("keys starting with 'aws:' are reserved by AWS; choose another key"));
        }
        if value.chars().count() > 256 {
            return Err(bad("the value must be at most 256 characters"));
        }
        if tags.iter().any(|t| t.key == key) {
            return Err(bad(&format!("the key '{key}' is given twice; give each key once")));
        }
        tags.push(Tag { key: key.to_string(), value: value.to_string() });
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(patterns: &[&str]) -> SpecArgs {
        SpecArgs {
            stack_name: None,
            role_name: None,
            repo_patterns: patterns.iter().map(|s| s.to_string()).collect(),
            audience: DEFAULT_AUDIENCE.into(),
            provider_arn: None,
            tags: vec![],
        }
    }

    fn error(a: SpecArgs) -> String {
        Spec::from_args(&a).unwrap_err().message
    }

    #[test]
    fn no_role_flags_means_the_provider_alone() {
        let spec = Spec::from_args(&args(&[])).unwrap();
        assert_eq!(spec.stack_name, "gh-oidc-provider");
        assert_eq!(spec.role, None);
        assert_eq!(spec.provider, ProviderChoice::Discover);
        assert_eq!(spec.audience, "sts.amazonaws.com");
    }

    #[test]
    fn a_pattern_alone_names_the_role_and_stack_after_the_repository() {
        let spec = Spec::from_args(&args(&["repo:acme/app:*", "repo:other/x:*"])).unwrap();
        let role = spec.role.unwrap();
        assert_eq!(role.name, "gh-oidc-acme-app");
        assert_eq!(role.subjects.len(), 2);
        assert_eq!(spec.stack_name, "gh-oidc-acme-app");
    }

    #[test]
    fn default_names_fit_iam_and_cloudformation() {
        let long = format!("repo:{}/{}:*", "o".repeat(39), "r".repeat(100));
        let spec = Spec::from_args(&args(&[&long])).unwrap();
        assert_eq!(spec.role.unwrap().name.len(), 64);

        let mut a = args(&["repo:acme/my.app_v2:*"]);
        assert_eq!(Spec::from_args(&a).unwrap().stack_name, "gh-oidc-acme-my-app-v2");
        a.role_name = Some("2fast@ci".into());
        assert_eq!(Spec::from_args(&a).unwrap().stack_name, "gh-oidc-2fast-ci");
    }

    #[test]
    fn explicit_names_are_checked() {
        let mut a = args(&["repo:acme/app:*"]);
        a.role_name = Some("has space".into());
        assert!(error(a).starts_with("--role-name 'has space':"));

        let mut a = args(&["repo:acme/app:*"]);
        a.role_name = Some("r".repeat(65));
        assert!(error(a).contains("1 to 64"));

        let mut a = args(&[]);
        a.stack_name = Some("1stack".into());
        assert!(error(a).starts_with("--stack-name '1stack':"));

        let mut a = args(&[]);
        a.stack_name = Some("s".repeat(129));
        assert!(error(a).contains("at most 128"));
    }

    #[test]
    fn a_role_name_without_patterns_is_refused() {
        let mut a = args(&[]);
        a.role_name = Some("deploy".into());
        assert!(error(a).contains("needs at least one --repo-pattern"));
    }

    #[test]
    fn provider_arns_are_checked_in_every_partition() {
        for arn in [
            "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws-cn:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws-us-gov:iam::111122223333:oidc-provider/ghe.example.com/_services/token",
        ] {
            let mut a = args(&["repo:acme/app:*"]);
            a.provider_arn = Some(arn.into());
            assert_eq!(Spec::from_args(&a).unwrap().provider, ProviderChoice::Given(arn.into()));
        }
        for arn in [
            "arn:aws:iam::1111:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::111122223333:role/x",
            "arn:aws:s3:::bucket",
        ] {
            let mut a = args(&["repo:acme/app:*"]);
            a.provider_arn = Some(arn.into());
            assert!(error(a).starts_with("--provider-arn"), "{arn}");
        }
        let mut a = args(&[]);
        a.provider_arn = Some("arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com".into());
        assert!(error(a).contains("add --repo-pattern"));
    }

    #[test]
    fn tags_are_key_value_within_aws_limits() {
        let mut a = args(&[]);
        a.tags = vec!["team=platform".into(), "empty=".into()];
        let tags = Spec::from_args(&a).unwrap().tags;
        assert_eq!(tags[0], Tag { key: "team".into(), value: "platform".into() });
        assert_eq!(tags[1].value, "");

        for (tag, why) in [
            ("novalue", "expected KEY=VALUE"),
            ("=v", "1 to 128"),
            ("aws:x=1", "reserved"),
            (&format!("k={}", "v".repeat(257)), "at most 256"),
        ] {
            let mut a = args(&[]);
            a.tags = vec![tag.to_string()];
            assert!(error(a).contains(why), "{tag}");
        }
        let mut a = args(&[]);
        a.tags = vec!["a=1".into(), "a=2".into()];
        assert!(error(a).contains("given twice"));
        let mut a = args(&[]);
        a.tags = (0..51).map(|i| format!("k{i}=v")).collect();
        assert!(error(a).contains("at most 50"));
    }

    #[test]
    fn the_audience_is_checked() {
        let mut a = args(&[]);
        a.audience = "".into();
        assert!(error(a).starts_with("--audience ''"));
    }
}

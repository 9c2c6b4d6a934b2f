//! What the user asked for, checked against IAM's and CloudFormation's rules before anything
//! is sent to AWS, with the defaults filled in. The safety review of the trust itself is in
//! `checks`.

use serde_json::Value;

use crate::checks;
use crate::cli::{RoleArgs, SpecArgs, TrustArgs};
use crate::error::{Error, Result};
use crate::issuer::{Issuer, Partition};
use crate::subject::{self, Qualifier, Subject};

pub const PROVIDER_STACK_NAME: &str = "gh-oidc-provider";

const ROLE_NAME_MAX: usize = 64;
const STACK_NAME_MAX: usize = 128;
const TAGS_MAX: usize = 50;
const MANAGED_POLICIES_MAX: usize = 10;
const INLINE_POLICY_MAX: usize = 10_240;
pub const INLINE_POLICY_NAME: &str = "gh-oidc-inline";

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub stack_name: String,
    pub issuer: Issuer,
    pub partition: Partition,
    pub audience: String,
    pub provider: ProviderChoice,
    pub role: Option<Role>,
    pub tags: Vec<Tag>,
    /// What the safety review found worth saying, for stderr.
    pub warnings: Vec<String>,
}

/// Where the role's trust comes from, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderChoice {
    /// Use the account's provider for the issuer if there is one, else create it.
    Discover,
    /// `--provider-arn`: trust exactly this provider.
    Given(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub subjects: Vec<Subject>,
    /// Also required: the token's `repository_id` is one of these.
    pub repository_ids: Vec<String>,
    pub managed_policies: Vec<PolicyRef>,
    pub inline_policy: Option<Value>,
    pub boundary: Option<PolicyRef>,
    pub max_session_duration: Option<u32>,
    pub path: Option<String>,
    pub description: Option<String>,
}

/// A managed policy, by ARN or by the name of an AWS-managed policy (whose ARN depends on
/// the partition, so the template writes it with `AWS::Partition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRef {
    Arn(String),
    AwsManaged(String),
}

impl PolicyRef {
    fn parse(flag: &str, raw: &str, partition: Partition) -> Result<PolicyRef> {
        let bad = |why: &str| Error::input(format!("{flag} '{raw}': {why}"));
        let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
        let Some(rest) = raw.strip_prefix("arn:") else {
            return if name_ok(raw) && !raw.starts_with('/') && !raw.ends_with('/') {
                Ok(PolicyRef::AwsManaged(raw.to_string()))
            } else {
                Err(bad("give a policy ARN or an AWS-managed policy name such as ReadOnlyAccess"))
            };
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [arn_partition, "iam", "", account, resource] = parts.as_slice() else {
            return Err(bad("expected arn:PARTITION:iam::ACCOUNT:policy/NAME"));
        };
        if *arn_partition != partition.name() {
            return Err(bad(&format!(
                "the ARN is in partition '{arn_partition}' but the region is in '{}'",
                partition.name()
            )));
        }
        let account_ok = *account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
        if !account_ok || !resource.strip_prefix("policy/").is_some_and(name_ok) {
            return Err(bad("expected arn:PARTITION:iam::ACCOUNT:policy/NAME"));
        }
        Ok(PolicyRef::Arn(raw.to_string()))
    }

    /// The policy's name, without its path.
    pub fn name(&self) -> &str {
        let full = match self {
            PolicyRef::Arn(arn) => arn.as_str(),
            PolicyRef::AwsManaged(name) => name.as_str(),
        };
        full.rsplit('/').next().unwrap_or(full)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Spec {
    /// `partition` is the region's; it sets the default audience and checks ARNs.
    pub fn from_args(args: &SpecArgs, partition: Partition) -> Result<Spec> {
        let issuer = match &args.trust.issuer_url {
            Some(url) => Issuer::parse(url)?,
            None => Issuer::default(),
        };
        let subjects = subjects(&args.trust)?;
        let role = role(&args.role, &args.trust, subjects, partition)?;

        let provider = match &args.trust.provider_arn {
            Some(arn) => {
                validate_provider_arn(arn, &issuer, partition)?;
                if role.is_none() {
                    return Err(Error::input(format!(
                        "--provider-arn '{arn}': nothing to deploy with an existing provider and no role; add --repo or --repo-pattern"
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
        let audience = match &args.trust.audience {
            Some(audience) => validate_audience(audience)?.to_string(),
            None => partition.default_audience().to_string(),
        };

        let mut spec = Spec {
            stack_name,
            issuer,
            partition,
            audience,
            provider,
            role,
            tags: parse_tags(&args.tags)?,
            warnings: vec![],
        };
        spec.warnings = checks::review(&spec)?;
        if args.deny_warnings && !spec.warnings.is_empty() {
            return Err(Error::input(format!("--deny-warnings: {}", spec.warnings.join("; "))));
        }
        Ok(spec)
    }
}

/// Raw patterns first, then every `--repo` crossed with every qualifier; each once.
fn subjects(trust: &TrustArgs) -> Result<Vec<Subject>> {
    let mut subjects = trust
        .repo_patterns
        .iter()
        .map(|p| Subject::parse("--repo-pattern", p, trust.allow_owner_wide))
        .collect::<Result<Vec<_>>>()?;
    let qualifiers: Vec<Qualifier> = trust
        .branches
        .iter()
        .map(|b| Qualifier::Branch(b.clone()))
        .chain(trust.git_tags.iter().map(|t| Qualifier::GitTag(t.clone())))
        .chain(trust.environments.iter().map(|e| Qualifier::Environment(e.clone())))
        .chain(trust.pull_request.then_some(Qualifier::PullRequest))
        .chain(trust.all_refs.then_some(Qualifier::AllRefs))
        .collect();
    for subject in subject::build(&trust.repos, &qualifiers, trust.allow_owner_wide)? {
        if !subjects.iter().any(|s| s.pattern == subject.pattern) {
            subjects.push(subject);
        }
    }
    Ok(subjects)
}

fn role(args: &RoleArgs, trust: &TrustArgs, subjects: Vec<Subject>, partition: Partition) -> Result<Option<Role>> {
    let Some(first) = subjects.first() else {
        let role_flag = [
            args.role_name.as_ref().map(|_| "--role-name"),
            args.policy_arns.first().map(|_| "--policy-arn"),
            args.inline_policy.as_ref().map(|_| "--inline-policy"),
            args.permissions_boundary.as_ref().map(|_| "--permissions-boundary"),
            args.max_session_duration.as_ref().map(|_| "--max-session-duration"),
            args.role_path.as_ref().map(|_| "--role-path"),
            args.role_description.as_ref().map(|_| "--role-description"),
            trust.repository_ids.first().map(|_| "--repository-id"),
        ]
        .into_iter()
        .flatten()
        .next();
        return match role_flag {
            Some(flag) => Err(Error::input(format!(
                "{flag}: a role needs at least one subject saying which workflows may assume it; \
                 add --repo OWNER/REPO with --branch, --environment, ... or --repo-pattern"
            ))),
            None => Ok(None),
        };
    };
    if args.policy_arns.len() > MANAGED_POLICIES_MAX {
        return Err(Error::input(format!(
            "--policy-arn: {} policies given; a role takes at most {MANAGED_POLICIES_MAX} (IAM's default quota)",
            args.policy_arns.len()
        )));
    }
    Ok(Some(Role {
        name: match &args.role_name {
            Some(name) => validate_role_name(name)?.to_string(),
            None => default_role_name(first),
        },
        repository_ids: trust.repository_ids.iter().map(|id| validate_repository_id(id)).collect::<Result<_>>()?,
        managed_policies: args
            .policy_arns
            .iter()
            .map(|p| PolicyRef::parse("--policy-arn", p, partition))
            .collect::<Result<_>>()?,
        inline_policy: args.inline_policy.as_deref().map(read_inline_policy).transpose()?,
        boundary: args
            .permissions_boundary
            .as_deref()
            .map(|b| PolicyRef::parse("--permissions-boundary", b, partition))
            .transpose()?,
        max_session_duration: args.max_session_duration.as_deref().map(parse_session_duration).transpose()?,
        path: args.role_path.as_deref().map(validate_role_path).transpose()?.map(str::to_string),
        description: args.role_description.as_deref().map(validate_description).transpose()?.map(str::to_string),
        subjects,
    }))
}

/// `gh-oidc-OWNER-REPO` (`gh-oidc-OWNER` for an owner-wide subject), cut to IAM's 64 characters.
fn default_role_name(subject: &Subject) -> String {
    let name = match &subject.repo {
        Some(repo) => format!("gh-oidc-{}-{repo}", subject.owner),
        None => format!("gh-oidc-{}", subject.owner),
    };
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

pub fn validate_role_name(name: &str) -> Result<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.len() > ROLE_NAME_MAX || !name.chars().all(allowed) {
        return Err(Error::input(format!(
            "--role-name '{name}': a role name is 1 to {ROLE_NAME_MAX} letters, digits and '+=,.@_-'"
        )));
    }
    Ok(name)
}

fn validate_role_path(path: &str) -> Result<&str> {
    let ok = (1..=512).contains(&path.len())
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('!'..='~').contains(&c));
    if ok {
        Ok(path)
    } else {
        Err(Error::input(format!(
            "--role-path '{path}': a path starts and ends with '/', e.g. /ci/, in at most 512 printable characters"
        )))
    }
}

fn validate_description(text: &str) -> Result<&str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{a1}'..='\u{ff}');
    if text.chars().count() > 1000 || !text.chars().all(allowed) {
        return Err(Error::input(
            "--role-description: at most 1000 characters, Latin-1 letters, digits and punctuation only",
        ));
    }
    Ok(text)
}

fn validate_repository_id(id: &str) -> Result<String> {
    if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::input(format!(
            "--repository-id '{id}': a repository id is a number; `gh api repos/OWNER/REPO --jq .id` prints it"
        )));
    }
    Ok(id.to_string())
}

fn validate_audience(audience: &str) -> Result<&str> {
    if audience.is_empty() || audience.chars().any(char::is_whitespace) || audience.len() > 255 {
        return Err(Error::input(format!(
            "--audience '{audience}': give the audience your workflow requests, usually 'sts.amazonaws.com'"
        )));
    }
    Ok(audience)
}

/// `3600`, `1h`, `90m`, `12h`: IAM allows one to twelve hours.
fn parse_session_duration(raw: &str) -> Result<u32> {
    let seconds = if let Some(h) = raw.strip_suffix('h') {
        h.parse::<u32>().ok().and_then(|h| h.checked_mul(3600))
    } else if let Some(m) = raw.strip_suffix('m') {
        m.parse::<u32>().ok().and_then(|m| m.checked_mul(60))
    } else {
        raw.strip_suffix('s').unwrap_or(raw).parse::<u32>().ok()
    };
    match seconds {
        Some(s) if (3600..=43200).contains(&s) => Ok(s),
        _ => Err(Error::input(format!(
            "--max-session-duration '{raw}': give 1 to 12 hours, as seconds (3600) or like 1h, 90m, 12h"
        ))),
    }
}

/// `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH]`, for this issuer and partition.
fn validate_provider_arn(arn: &str, issuer: &Issuer, partition: Partition) -> Result<()> {
    let bad = |why: String| Error::input(format!("--provider-arn '{arn}': {why}"));
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", arn_partition, "iam", "", account, resource] = parts.as_slice() else {
        return Err(bad(format!("expected {}", issuer.provider_arn(partition, "ACCOUNT"))));
    };
    let Some(url) = resource
        .strip_prefix("oidc-provider/")
        .filter(|_| account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
    else {
        return Err(bad(format!("expected {}", issuer.provider_arn(partition, "ACCOUNT"))));
    };
    if *arn_partition != partition.name() {
        return Err(bad(format!("it is in partition '{arn_partition}' but the region is in '{}'", partition.name())));
    }
    if url != issuer.host_path() {
        return Err(bad(format!(
            "this provider is for https://{url}, but the role trusts tokens from {} (--issuer-url); \
             the condition keys would never match",
            issuer.url()
        )));
    }
    Ok(())
}

/// A JSON file named by `flag`, read and parsed; errors name the flag and the file.
pub fn read_json(flag: &str, path: &std::path::Path) -> Result<Value> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::input(format!("{flag} '{shown}': cannot read it ({e})")))?;
    serde_json::from_str(&text).map_err(|e| Error::input(format!("{flag} '{shown}': not valid JSON ({e})")))
}

fn read_inline_policy(path: &std::path::Path) -> Result<Value> {
    let document = read_json("--inline-policy", path)?;
    check_inline_policy(&document)
        .map_err(|why| Error::input(format!("--inline-policy '{}': {why}", path.display())))?;
    Ok(document)
}

/// The shape IAM requires of an identity policy, checked before CloudFormation finds out.
pub fn check_inline_policy(document: &Value) -> Result<(), String> {
    if !document.is_object() {
        return Err("a policy document is a JSON object with Version and Statement".into());
    }
    if let Some(version) = document.get("Version")
        && version != "2012-10-17"
        && version != "2008-10-17"
    {
        return Err(format!("Version {version} is not a policy language version; use \"2012-10-17\""));
    }
    let statements = crate::policy::statements(document);
    if statements.is_empty() {
        return Err("it has no Statement".into());
    }
    for (i, statement) in statements.iter().enumerate() {
        let n = i + 1;
        if !matches!(statement.get("Effect").and_then(Value::as_str), Some("Allow" | "Deny")) {
            return Err(format!("statement {n} needs \"Effect\": \"Allow\" or \"Deny\""));
        }
        if statement.get("Action").is_none() && statement.get("NotAction").is_none() {
            return Err(format!("statement {n} has no Action"));
        }
        if statement.get("Resource").is_none() && statement.get("NotResource").is_none() {
            return Err(format!("statement {n} has no Resource"));
        }
        if statement.get("Principal").is_some() || statement.get("NotPrincipal").is_some() {
            return Err(format!("statement {n} has a Principal, which a role's own policy cannot have"));
        }
    }
    let size = document.to_string().chars().filter(|c| !c.is_whitespace()).count();
    if size > INLINE_POLICY_MAX {
        return Err(format!("it is {size} characters; IAM allows {INLINE_POLICY_MAX} for a role's inline policies"));
    }
    Ok(())
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
            trust: TrustArgs { repo_patterns: patterns.iter().map(|s| s.to_string()).collect(), ..Default::default() },
            ..Default::default()
        }
    }

    fn spec(a: &SpecArgs) -> Result<Spec> {
        Spec::from_args(a, Partition::Aws)
    }

    fn error(a: SpecArgs) -> String {
        spec(&a).unwrap_err().message
    }

    #[test]
    fn no_role_flags_means_the_provider_alone() {
        let spec = spec(&args(&[])).unwrap();
        assert_eq!(spec.stack_name, "gh-oidc-provider");
        assert_eq!(spec.role, None);
        assert_eq!(spec.provider, ProviderChoice::Discover);
        assert_eq!(spec.audience, "sts.amazonaws.com");
        assert_eq!(spec.issuer, Issuer::default());
    }

    #[test]
    fn a_pattern_alone_names_the_role_and_stack_after_the_repository() {
        let spec = spec(&args(&["repo:acme/app:*", "repo:other/x:*"])).unwrap();
        let role = spec.role.unwrap();
        assert_eq!(role.name, "gh-oidc-acme-app");
        assert_eq!(role.subjects.len(), 2);
        assert_eq!(spec.stack_name, "gh-oidc-acme-app");
    }

    #[test]
    fn builders_and_patterns_combine_without_repeats() {
        let mut a = args(&["repo:acme/app:ref:refs/heads/main"]);
        a.trust.repos = vec!["acme/app".into()];
        a.trust.branches = vec!["main".into(), "release".into()];
        a.trust.pull_request = true;
        let role = spec(&a).unwrap().role.unwrap();
        let patterns: Vec<&str> = role.subjects.iter().map(|s| s.pattern.as_str()).collect();
        assert_eq!(
            patterns,
            ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/release", "repo:acme/app:pull_request"]
        );
    }

    #[test]
    fn default_names_fit_iam_and_cloudformation() {
        let long = format!("repo:{}/{}:*", "o".repeat(39), "r".repeat(100));
        assert_eq!(spec(&args(&[&long])).unwrap().role.unwrap().name.len(), 64);

        let mut a = args(&["repo:acme/my.app_v2:*"]);
        assert_eq!(spec(&a).unwrap().stack_name, "gh-oidc-acme-my-app-v2");
        a.role.role_name = Some("2fast@ci".into());
        assert_eq!(spec(&a).unwrap().stack_name, "gh-oidc-2fast-ci");

        let mut a = args(&["repo:acme/*:ref:refs/heads/main"]);
        a.trust.allow_owner_wide = true;
        assert_eq!(spec(&a).unwrap().role.unwrap().name, "gh-oidc-acme");
    }

    #[test]
    fn explicit_names_are_checked() {
        let mut a = args(&["repo:acme/app:*"]);
        a.role.role_name = Some("has space".into());
        assert!(error(a).starts_with("--role-name 'has space':"));

        let mut a = args(&["repo:acme/app:*"]);
        a.role.role_name = Some("r".repeat(65));
        assert!(error(a).contains("1 to 64"));

        let mut a = args(&[]);
        a.stack_name = Some("1stack".into());
        assert!(error(a).starts_with("--stack-name '1stack':"));

        let mut a = args(&[]);
        a.stack_name = Some("s".repeat(129));
        assert!(error(a).contains("at most 128"));
    }

    #[test]
    fn role_flags_without_subjects_are_refused() {
        for set in [
            (|a: &mut SpecArgs| a.role.role_name = Some("deploy".into())) as fn(&mut SpecArgs),
            |a| a.role.policy_arns = vec!["ReadOnlyAccess".into()],
            |a| a.role.max_session_duration = Some("1h".into()),
            |a| a.trust.repository_ids = vec!["1".into()],
        ] {
            let mut a = args(&[]);
            set(&mut a);
            assert!(error(a).contains("a role needs at least one subject"));
        }
    }

    #[test]
    fn provider_arns_are_checked_against_partition_and_issuer() {
        let arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        let mut a = args(&["repo:acme/app:*"]);
        a.trust.provider_arn = Some(arn.into());
        assert_eq!(spec(&a).unwrap().provider, ProviderChoice::Given(arn.into()));
        assert!(
            Spec::from_args(&a, Partition::China)
                .unwrap_err()
                .message
                .contains("partition 'aws' but the region is in 'aws-cn'")
        );

        a.trust.issuer_url = Some("https://ghe.example.com/_services/token".into());
        assert!(error(a).contains("this provider is for https://token.actions.githubusercontent.com"));

        for bad in
            ["arn:aws:iam::1111:oidc-provider/token.actions.githubusercontent.com", "arn:aws:iam::111122223333:role/x"]
        {
            let mut a = args(&["repo:acme/app:*"]);
            a.trust.provider_arn = Some(bad.into());
            assert!(error(a).starts_with(&format!("--provider-arn '{bad}': expected")), "{bad}");
        }
        let mut a = args(&[]);
        a.trust.provider_arn = Some(arn.into());
        assert!(error(a).contains("add --repo or --repo-pattern"));
    }

    #[test]
    fn the_partition_sets_the_default_audience() {
        let cn = Spec::from_args(&args(&[]), Partition::China).unwrap();
        assert_eq!(cn.audience, "sts.amazonaws.com.cn");
        let mut a = args(&[]);
        a.trust.audience = Some("custom".into());
        assert_eq!(Spec::from_args(&a, Partition::China).unwrap().audience, "custom");
        a.trust.audience = Some("".into());
        assert!(error(a).starts_with("--audience ''"));
    }

    #[test]
    fn policies_boundary_session_path_description() {
        let mut a = args(&["repo:acme/app:environment:prod"]);
        a.role.policy_arns = vec!["ReadOnlyAccess".into(), "arn:aws:iam::111122223333:policy/ci/deploy".into()];
        a.role.permissions_boundary = Some("arn:aws:iam::111122223333:policy/boundary".into());
        a.role.max_session_duration = Some("2h".into());
        a.role.role_path = Some("/ci/".into());
        a.role.role_description = Some("Deploys acme/app".into());
        a.trust.repository_ids = vec!["123456".into()];
        let role = spec(&a).unwrap().role.unwrap();
        assert_eq!(
            role.managed_policies,
            [
                PolicyRef::AwsManaged("ReadOnlyAccess".into()),
                PolicyRef::Arn("arn:aws:iam::111122223333:policy/ci/deploy".into())
            ]
        );
        assert_eq!(role.managed_policies[1].name(), "deploy");
        assert_eq!(role.max_session_duration, Some(7200));
        assert_eq!(role.path.as_deref(), Some("/ci/"));
        assert_eq!(role.repository_ids, ["123456"]);

        for (set, expected) in [
            (
                (|a: &mut SpecArgs| a.role.policy_arns = vec!["arn:aws:s3:::bucket".into()]) as fn(&mut SpecArgs),
                "--policy-arn 'arn:aws:s3:::bucket': expected",
            ),
            (|a| a.role.policy_arns = vec!["arn:aws-cn:iam::aws:policy/ReadOnlyAccess".into()], "partition 'aws-cn'"),
            (|a| a.role.policy_arns = vec!["Bad Name".into()], "AWS-managed policy name"),
            (|a| a.role.policy_arns = (0..11).map(|i| format!("P{i}")).collect(), "at most 10"),
            (|a| a.role.permissions_boundary = Some("arn:aws:iam::1:policy/x".into()), "--permissions-boundary"),
            (|a| a.role.max_session_duration = Some("30m".into()), "1 to 12 hours"),
            (|a| a.role.max_session_duration = Some("13h".into()), "1 to 12 hours"),
            (|a| a.role.max_session_duration = Some("soon".into()), "1 to 12 hours"),
            (|a| a.role.role_path = Some("ci".into()), "--role-path 'ci'"),
            (|a| a.role.role_description = Some("d".repeat(1001)), "at most 1000"),
            (|a| a.trust.repository_ids = vec!["acme/app".into()], "--repository-id 'acme/app'"),
        ] {
            let mut a = args(&["repo:acme/app:environment:prod"]);
            set(&mut a);
            let message = error(a);
            assert!(message.contains(expected), "{expected}: {message}");
        }
        for (raw, seconds) in [("3600", 3600), ("1h", 3600), ("90m", 5400), ("12h", 43200), ("43200s", 43200)] {
            assert_eq!(parse_session_duration(raw).unwrap(), seconds);
        }
    }

    #[test]
    fn inline_policies_are_checked() {
        let ok = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        assert_eq!(check_inline_policy(&ok), Ok(()));
        for (document, why) in [
            (serde_json::json!([]), "JSON object"),
            (serde_json::json!({"Statement": []}), "no Statement"),
            (serde_json::json!({"Version": "2020-01-01", "Statement": [{}]}), "Version"),
            (serde_json::json!({"Statement": {"Effect": "Permit"}}), "statement 1 needs \"Effect\""),
            (serde_json::json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}), "statement 1 has no Action"),
            (serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}), "statement 1 has no Resource"),
            (
                serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]}),
                "Principal",
            ),
            (
                serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "x".repeat(10_300), "Resource": "*"}]}),
                "IAM allows 10240",
            ),
        ] {
            assert!(check_inline_policy(&document).unwrap_err().contains(why), "{why}");
        }
        let mut a = args(&["repo:acme/app:pull_request"]);
        a.role.inline_policy = Some("/nonexistent/policy.json".into());
        assert!(error(a).starts_with("--inline-policy '/nonexistent/policy.json': cannot read it"));
    }

    #[test]
    fn tags_are_key_value_within_aws_limits() {
        let mut a = args(&[]);
        a.tags = vec!["team=platform".into(), "empty=".into()];
        let tags = spec(&a).unwrap().tags;
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
    fn deny_warnings_turns_warnings_into_one_error() {
        let mut a = args(&["repo:acme/app:*"]);
        assert!(!spec(&a).unwrap().warnings.is_empty());
        a.deny_warnings = true;
        assert!(error(a).starts_with("--deny-warnings: 'repo:acme/app:*' trusts every branch"));
    }
}

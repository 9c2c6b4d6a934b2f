//! The safety review of a role's trust and permissions (FIELD-NOTES §2): what must never be
//! deployed (an error naming the flag and the fix) and what deserves a warning.
//!
//! Checks that belong to a single value (a wildcard in a repository name, an owner-wide
//! pattern, a malformed name) are made where the value is parsed, in `subject` and `spec`;
//! here are the ones that look at the role as a whole.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::issuer::IssuerKind;
use crate::spec::{PolicyRef, Spec};
use crate::{policy, template};

/// IAM's default limit on a trust policy, whitespace not counted.
const TRUST_POLICY_MAX: usize = 2048;
/// The longest account id, to size the principal before the account is known.
const ANY_ACCOUNT: &str = "123456789012";

/// The warnings for `spec`, or the first hard error.
pub fn review(spec: &Spec) -> Result<Vec<String>> {
    let Some(role) = &spec.role else { return Ok(vec![]) };

    if spec.issuer.kind() == IssuerKind::EnterpriseServer
        && let Some(subject) = role.subjects.iter().find(|s| s.ids)
    {
        return Err(Error::input(format!(
            "{} '{}': GitHub Enterprise Server does not issue the immutable-ID form, so it would never match; \
             write the subject as repo:OWNER/REPO:...",
            subject.flag, subject.pattern
        )));
    }

    let principal = Value::String(spec.issuer.provider_arn(spec.partition, ANY_ACCOUNT));
    let policy = template::trust_policy(&spec.issuer, &spec.audience, role, principal);
    let size = policy.to_string().chars().filter(|c| !c.is_whitespace()).count();
    if size > TRUST_POLICY_MAX {
        return Err(Error::input(format!(
            "--repo/--repo-pattern: {} subjects make a trust policy of {size} characters, over IAM's limit of \
             {TRUST_POLICY_MAX}: trust fewer (e.g. one wildcard such as --git-tag 'v*' for many tags) or split them \
             over several roles",
            role.subjects.len()
        )));
    }

    let mut warnings = Vec::new();
    for subject in role.subjects.iter().filter(|s| s.qualifier() == "*") {
        warnings.push(format!(
            "'{}' trusts every branch, tag, pull request and environment of the repository: anyone who can push \
             a branch can assume the role; name the branches or environments instead",
            subject.pattern
        ));
    }
    let has_permissions = !role.managed_policies.is_empty() || role.inline_policy.is_some();
    if has_permissions && let Some(subject) = role.subjects.iter().find(|s| s.qualifier() == "pull_request") {
        warnings.push(format!(
            "'{}' lets pull-request runs, with code nobody has reviewed yet, use this role's policies; \
             give pull requests a separate role with read-only access",
            subject.pattern
        ));
    }
    if role.repository_ids.is_empty()
        && let Some(subject) = role.subjects.iter().find(|s| !s.ids)
    {
        warnings.push(format!(
            "'{}' names its repository by name: if the owner or repository is renamed or deleted, whoever takes \
             the name can assume the role; add --repository-id (or use the OWNER@ID/REPO@ID form)",
            subject.pattern
        ));
    }
    if let Some(admin) = role.managed_policies.iter().find(|p| p.name() == "AdministratorAccess") {
        let name = match admin {
            PolicyRef::Arn(arn) => arn.as_str(),
            PolicyRef::AwsManaged(name) => name.as_str(),
        };
        warnings.push(format!(
            "--policy-arn '{name}' gives the role full control of the account; grant only what the workflow needs"
        ));
    }
    if role.inline_policy.as_ref().is_some_and(policy::allows_every_action) {
        warnings.push(
            "--inline-policy allows \"Action\": \"*\", full control over its resources; list the actions the workflow needs"
                .to_string(),
        );
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SpecArgs;
    use crate::issuer::Partition;

    fn review_of(patterns: &[&str], tweak: impl Fn(&mut SpecArgs)) -> Result<Vec<String>> {
        let mut args = SpecArgs::default();
        args.trust.repo_patterns = patterns.iter().map(|s| s.to_string()).collect();
        args.trust.repository_ids = vec!["1".into()];
        tweak(&mut args);
        Spec::from_args(&args, Partition::Aws).map(|s| s.warnings)
    }

    #[test]
    fn a_narrow_role_pinned_by_id_has_no_warnings() {
        assert_eq!(review_of(&["repo:acme/app:environment:prod"], |_| {}).unwrap(), Vec::<String>::new());
    }

    type Case = (&'static [&'static str], fn(&mut SpecArgs), &'static str);

    #[test]
    fn each_warning() {
        let table: [Case; 6] = [
            (&["repo:acme/app:*"], |_| {}, "'repo:acme/app:*' trusts every branch"),
            (
                &["repo:acme/app:pull_request"],
                |a| a.role.policy_arns = vec!["ReadOnlyAccess".into()],
                "lets pull-request runs",
            ),
            (&["repo:acme/app:environment:prod"], |a| a.trust.repository_ids.clear(), "names its repository by name"),
            (
                &["repo:acme/app:environment:prod"],
                |a| a.role.policy_arns = vec!["AdministratorAccess".into()],
                "full control of the account",
            ),
            (
                &["repo:acme/app:environment:prod"],
                |a| a.role.policy_arns = vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
                "--policy-arn 'arn:aws:iam::aws:policy/AdministratorAccess' gives",
            ),
            (&["repo:acme/app:pull_request"], |_| {}, ""),
        ];
        for (patterns, tweak, expected) in table {
            let warnings = review_of(patterns, tweak).unwrap();
            if expected.is_empty() {
                assert!(warnings.is_empty(), "{warnings:?}");
            } else {
                assert_eq!(warnings.len(), 1, "{warnings:?}");
                assert!(warnings[0].contains(expected), "{expected}: {warnings:?}");
            }
        }
        let id_form = review_of(&["repo:acme@1/app@2:environment:prod"], |a| a.trust.repository_ids.clear()).unwrap();
        assert!(id_form.is_empty(), "{id_form:?}");
    }

    #[test]
    fn an_inline_star_action_is_warned_about() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#).unwrap();
        let warnings =
            review_of(&["repo:acme/app:environment:prod"], |a| a.role.inline_policy = Some(file.path().into()))
                .unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("--inline-policy allows \"Action\": \"*\""), "{warnings:?}");
    }

    #[test]
    fn the_id_form_is_refused_for_enterprise_server() {
        let err = review_of(&["repo:acme@1/app@2:pull_request"], |a| {
            a.trust.issuer_url = Some("https://ghe.example.com/_services/token".into())
        })
        .unwrap_err();
        assert!(err.message.starts_with("--repo-pattern 'repo:acme@1/app@2:pull_request': GitHub Enterprise Server"));
    }

    #[test]
    fn an_oversized_trust_policy_is_refused() {
        let err = review_of(&[], |a| {
            a.trust.repos = vec!["acme/app".into()];
            a.trust.branches = (0..60).map(|i| format!("release-branch-number-{i}")).collect();
        })
        .unwrap_err();
        assert!(
            err.message.starts_with("--repo/--repo-pattern: 60 subjects make a trust policy of"),
            "{}",
            err.message
        );
        assert!(err.message.contains("over IAM's limit of 2048"));
    }
}

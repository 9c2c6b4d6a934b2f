//! `gh-oidc audit`: the roles of an account that GitHub tokens can assume, checked for the
//! misconfigurations that have let strangers in (FIELD-NOTES §2).

use serde::Serialize;
use serde_json::Value;

use crate::aws::iam::RoleTrust;
use crate::issuer::Issuer;
use crate::policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub role: String,
    pub severity: Severity,
    pub finding: String,
    pub fix: String,
}

/// The GitHub issuers a role's trust policy lets assume it, one per allowing statement.
fn github_statements(trust: &Value) -> Vec<(&Value, Issuer)> {
    policy::statements(trust)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow" && policy::action_matches(&s["Action"]))
        .filter_map(|s| {
            policy::strings(&s["Principal"]["Federated"])
                .iter()
                .filter_map(|arn| arn.split_once(":oidc-provider/"))
                .find_map(|(_, url)| Issuer::parse(&format!("https://{url}")).ok())
                .map(|issuer| (s, issuer))
        })
        .collect()
}

/// Whether GitHub tokens can assume this role at all.
pub fn is_github_role(trust: &Value) -> bool {
    !github_statements(trust).is_empty()
}

/// The findings for one role; `attached` is the ARNs of its managed policies, `inline` its
/// inline policies by name.
pub fn review(role: &RoleTrust, attached: &[String], inline: &[(String, Value)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |severity, finding: String, fix: &str| {
        findings.push(Finding { role: role.name.clone(), severity, finding, fix: fix.to_string() })
    };
    for (statement, issuer) in github_statements(&role.trust) {
        let (mut has_sub, mut has_aud) = (false, false);
        for (operator, keys) in statement["Condition"].as_object().into_iter().flatten() {
            if operator.starts_with("ForAllValues:") {
                add(
                    Severity::Critical,
                    format!("{operator} passes when the claim is missing, so it lets any token in"),
                    "use StringEquals or StringLike, without set operators",
                );
            } else if operator.starts_with("ForAnyValue:") {
                add(
                    Severity::High,
                    format!("{operator} is a multi-value operator on single-valued claims"),
                    "use StringEquals or StringLike, without set operators",
                );
            }
            for (key, values) in keys.as_object().into_iter().flatten() {
                let Some((prefix, claim)) = key.rsplit_once(':') else { continue };
                if !prefix.eq_ignore_ascii_case(issuer.host_path()) {
                    add(
                        Severity::High,
                        format!("condition key {key} does not belong to the trusted provider {}", issuer.url()),
                        &format!("write the condition keys as {}:CLAIM", issuer.host_path()),
                    );
                    continue;
                }
                match claim.to_ascii_lowercase().as_str() {
                    "aud" => has_aud = true,
                    "sub" => {
                        has_sub = true;
                        if operator.contains("StringLike") {
                            for value in policy::strings(values) {
                                if let Some((severity, finding, fix)) = wildcard_subject(&value) {
                                    add(severity, finding, fix);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if !has_sub {
            add(
                Severity::Critical,
                format!("no {} condition: any repository on GitHub can assume it", issuer.condition_key("sub")),
                "add a StringEquals on the sub claim naming your repositories (gh-oidc setup --repo OWNER/REPO ...)",
            );
        }
        if !has_aud {
            add(
                Severity::High,
                format!("no {} condition", issuer.condition_key("aud")),
                "add a StringEquals on the aud claim, usually sts.amazonaws.com",
            );
        }
    }
    if let Some(admin) = attached.iter().find(|arn| arn.ends_with("/AdministratorAccess")) {
        add(
            Severity::High,
            format!("{admin} is attached: full control of the account"),
            "attach only what the workflow needs",
        );
    }
    for (name, _) in inline.iter().filter(|(_, document)| policy::allows_every_action(document)) {
        add(
            Severity::High,
            format!("inline policy {name} allows \"Action\": \"*\""),
            "list only the actions the workflow needs",
        );
    }
    findings
}

/// A `StringLike` subject with a wildcard in the owner or repository name, or one that
/// trusts every ref.
fn wildcard_subject(value: &str) -> Option<(Severity, String, &'static str)> {
    let repository = value.strip_prefix("repo:").map_or(value, |rest| rest.split(':').next().unwrap_or(rest));
    let wild = |s: &str| s.contains(['*', '?']);
    if wild(repository) {
        return Some(match repository.split_once('/') {
            Some((owner, "*")) if !wild(owner) => (
                Severity::High,
                format!("'{value}' trusts every repository of {owner}, including ones created later"),
                "name the repositories",
            ),
            _ => (
                Severity::Critical,
                format!("'{value}' has a wildcard in the owner or repository name: strangers' repositories match"),
                "name the owner and repository exactly",
            ),
        });
    }
    value.ends_with(":*").then(|| {
        (
            Severity::Medium,
            format!("'{value}' trusts every branch, tag, pull request and environment"),
            "name the branches or environments",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GITHUB: &str = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn role(principal: &str, condition: Value) -> RoleTrust {
        RoleTrust {
            name: "r".into(),
            arn: "arn:aws:iam::111122223333:role/r".into(),
            trust: json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": principal},
                "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}),
        }
    }

    fn findings(condition: Value) -> Vec<(Severity, String)> {
        review(&role(GITHUB, condition), &[], &[]).into_iter().map(|f| (f.severity, f.finding)).collect()
    }

    const AUD: &str = "token.actions.githubusercontent.com:aud";
    const SUB: &str = "token.actions.githubusercontent.com:sub";

    #[test]
    fn a_well_made_role_is_clean() {
        assert!(
            findings(json!({"StringEquals": {AUD: "sts.amazonaws.com", SUB: "repo:acme/app:environment:prod"}}))
                .is_empty()
        );
        assert!(findings(json!({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:acme/app:ref:refs/tags/v*"}})).is_empty());
    }

    #[test]
    fn each_misconfiguration_with_its_severity() {
        let cases: Vec<(Value, Severity, &str)> = vec![
            (
                json!({"StringEquals": {AUD: "sts.amazonaws.com"}}),
                Severity::Critical,
                "no token.actions.githubusercontent.com:sub condition",
            ),
            (
                json!({"StringLike": {SUB: "repo:acme/app:*"}}),
                Severity::High,
                "no token.actions.githubusercontent.com:aud condition",
            ),
            (json!({"StringEquals": {AUD: "a"}, "StringLike": {SUB: "*"}}), Severity::Critical, "'*' has a wildcard"),
            (
                json!({"StringEquals": {AUD: "a"}, "StringLike": {SUB: "repo:acme*"}}),
                Severity::Critical,
                "'repo:acme*' has a wildcard",
            ),
            (
                json!({"StringEquals": {AUD: "a"}, "StringLike": {SUB: "repo:acme/app*:*"}}),
                Severity::Critical,
                "has a wildcard",
            ),
            (
                json!({"StringEquals": {AUD: "a"}, "StringLike": {SUB: "repo:acme/*:*"}}),
                Severity::High,
                "every repository of acme",
            ),
            (
                json!({"StringEquals": {AUD: "a"}, "StringLike": {SUB: "repo:acme/app:*"}}),
                Severity::Medium,
                "every branch",
            ),
            (
                json!({"StringEquals": {AUD: "a"}, "ForAllValues:StringLike": {SUB: "repo:acme/app:*"}}),
                Severity::Critical,
                "ForAllValues:StringLike passes",
            ),
            (
                json!({"StringEquals": {AUD: "a"}, "ForAnyValue:StringEquals": {SUB: "repo:acme/app:pull_request"}}),
                Severity::High,
                "ForAnyValue:StringEquals",
            ),
            (
                json!({"StringEquals": {AUD: "a", SUB: "repo:a/b:pull_request", "ghe.example.com/_services/token:sub": "x"}}),
                Severity::High,
                "does not belong to the trusted provider",
            ),
        ];
        for (condition, severity, text) in cases {
            let got = findings(condition.clone());
            assert!(got.iter().any(|(s, f)| *s == severity && f.contains(text)), "{condition}: {got:?}");
        }
        // `*` under StringEquals is a literal character, not a wildcard.
        assert!(findings(json!({"StringEquals": {AUD: "a", SUB: "repo:acme/app:*"}})).is_empty());
    }

    #[test]
    fn administrator_access_and_non_github_roles() {
        let r = role(GITHUB, json!({"StringEquals": {AUD: "a", SUB: "repo:a/b:pull_request"}}));
        let got = review(&r, &["arn:aws:iam::aws:policy/AdministratorAccess".into()], &[]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].severity, Severity::High);
        let star = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let got = review(&r, &[], &[("ci".into(), star)]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].finding, "inline policy ci allows \"Action\": \"*\"");

        let other = role("arn:aws:iam::111122223333:oidc-provider/accounts.google.com", json!({}));
        assert!(!is_github_role(&other.trust));
        assert!(review(&other, &[], &[]).is_empty());
        let service = RoleTrust {
            name: "lambda".into(),
            arn: "arn:aws:iam::1:role/lambda".into(),
            trust: json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        };
        assert!(!is_github_role(&service.trust));
        assert!(is_github_role(&role(GITHUB, json!({})).trust));
    }
}

//! Renders the CloudFormation template from a spec.
//!
//! `templates/github-oidc.json` holds the whole shape (provider, role, outputs) as a valid
//! template of its own; rendering keeps the parts a stack needs and fills in the values.

use serde_json::{Value, json};

use crate::spec::{ISSUER_URL, Role, Spec};

const SKELETON: &str = include_str!("../templates/github-oidc.json");

const PROVIDER_ID: &str = "GitHubOidcProvider";
const ROLE_ID: &str = "GitHubActionsRole";

/// The provider the stack's role trusts, once the account has been looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderPlan {
    /// The stack holds the provider (creates it, or already owns it).
    Create,
    /// The provider lives outside the stack; the role trusts it by ARN.
    Existing(String),
}

/// The template for `spec`, or `None` when the stack would hold nothing (the provider exists
/// outside it and no role is asked for).
pub fn render(spec: &Spec, provider: &ProviderPlan) -> Option<Value> {
    if spec.role.is_none() && matches!(provider, ProviderPlan::Existing(_)) {
        return None;
    }
    let mut template: Value = serde_json::from_str(SKELETON).expect("templates/github-oidc.json is valid JSON");
    let resources = template["Resources"].as_object_mut().expect("template has Resources");

    let provider_ref = match provider {
        ProviderPlan::Create => {
            resources[PROVIDER_ID]["Properties"]["ClientIdList"] = json!([spec.audience]);
            json!({ "Ref": PROVIDER_ID })
        }
        ProviderPlan::Existing(arn) => {
            resources.remove(PROVIDER_ID);
            json!(arn)
        }
    };

    match &spec.role {
        Some(role) => {
            let props = &mut resources[ROLE_ID]["Properties"];
            props["RoleName"] = json!(role.name);
            let statement = &mut props["AssumeRolePolicyDocument"]["Statement"][0];
            statement["Principal"]["Federated"] = provider_ref.clone();
            statement["Condition"] = trust_condition(&spec.audience, role);
        }
        None => {
            resources.remove(ROLE_ID);
        }
    }

    let outputs = template["Outputs"].as_object_mut().expect("template has Outputs");
    outputs["ProviderArn"]["Value"] = provider_ref;
    if spec.role.is_none() {
        outputs.remove("RoleArn");
        outputs.remove("RoleName");
    }
    Some(template)
}

/// The condition keys are the issuer URL without its scheme (`token.actions.githubusercontent.com:sub`).
fn condition_key(claim: &str) -> String {
    format!("{}:{claim}", ISSUER_URL.trim_start_matches("https://"))
}

/// `aud` is always checked with `StringEquals`; `sub` with `StringEquals` unless a pattern
/// carries a wildcard, which only `StringLike` honours. Never `ForAnyValue:`/`ForAllValues:`,
/// which pass when the claim is missing.
fn trust_condition(audience: &str, role: &Role) -> Value {
    let aud = (condition_key("aud"), json!(audience));
    let sub = (condition_key("sub"), json!(role.subjects.iter().map(|s| &s.pattern).collect::<Vec<_>>()));
    if role.subjects.iter().any(|s| s.has_wildcard()) {
        json!({ "StringEquals": { aud.0: aud.1 }, "StringLike": { sub.0: sub.1 } })
    } else {
        json!({ "StringEquals": { aud.0: aud.1, sub.0: sub.1 } })
    }
}

/// The template as CloudFormation receives it and `render` prints it.
pub fn to_json(template: &Value) -> String {
    serde_json::to_string_pretty(template).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{DEFAULT_AUDIENCE, ProviderChoice};
    use crate::subject::Subject;

    const ARN: &str = "arn:aws-us-gov:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn spec(patterns: &[&str]) -> Spec {
        let subjects: Vec<Subject> = patterns.iter().map(|p| Subject::parse("--repo-pattern", p).unwrap()).collect();
        Spec {
            stack_name: "s".into(),
            audience: DEFAULT_AUDIENCE.into(),
            provider: ProviderChoice::Discover,
            role: (!subjects.is_empty()).then(|| Role { name: "deploy".into(), subjects }),
            tags: vec![],
        }
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn provider_only() {
        let t = render(&spec(&[]), &ProviderPlan::Create).unwrap();
        assert_eq!(keys(&t["Resources"]), [PROVIDER_ID]);
        assert_eq!(keys(&t["Outputs"]), ["ProviderArn"]);
        let provider = &t["Resources"][PROVIDER_ID]["Properties"];
        assert_eq!(provider["Url"], ISSUER_URL);
        assert_eq!(provider["ClientIdList"], json!(["sts.amazonaws.com"]));
        assert_eq!(
            provider["ThumbprintList"],
            json!(["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"])
        );
        assert_eq!(t["Outputs"]["ProviderArn"]["Value"], json!({"Ref": PROVIDER_ID}));
    }

    #[test]
    fn provider_and_role_with_exact_subjects() {
        let t = render(
            &spec(&["repo:acme/app:ref:refs/heads/main", "repo:acme/app:environment:prod"]),
            &ProviderPlan::Create,
        )
        .unwrap();
        assert_eq!(keys(&t["Resources"]), [PROVIDER_ID, ROLE_ID]);
        assert_eq!(keys(&t["Outputs"]), ["ProviderArn", "RoleArn", "RoleName"]);
        let role = &t["Resources"][ROLE_ID]["Properties"];
        assert_eq!(role["RoleName"], "deploy");
        assert_eq!(
            role["AssumeRolePolicyDocument"],
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": {"Ref": PROVIDER_ID}},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub":
                            ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:environment:prod"]
                    }}
                }]
            })
        );
    }

    #[test]
    fn a_wildcard_switches_sub_to_string_like_and_keeps_aud_exact() {
        let t = render(
            &spec(&["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*"]),
            &ProviderPlan::Create,
        )
        .unwrap();
        let condition = &t["Resources"][ROLE_ID]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
        assert_eq!(
            condition,
            &json!({
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub":
                    ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*"]}
            })
        );
        assert!(!to_json(&t).contains("ForAllValues") && !to_json(&t).contains("ForAnyValue"));
    }

    #[test]
    fn role_trusting_an_existing_provider_by_arn() {
        let t = render(&spec(&["repo:acme/app:*"]), &ProviderPlan::Existing(ARN.into())).unwrap();
        assert_eq!(keys(&t["Resources"]), [ROLE_ID]);
        let statement = &t["Resources"][ROLE_ID]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(statement["Principal"]["Federated"], ARN);
        assert_eq!(t["Outputs"]["ProviderArn"]["Value"], ARN);
    }

    #[test]
    fn nothing_to_render_when_the_provider_exists_and_no_role_is_asked() {
        assert_eq!(render(&spec(&[]), &ProviderPlan::Existing(ARN.into())), None);
    }

    #[test]
    fn the_audience_reaches_provider_and_role() {
        let mut s = spec(&["repo:acme/app:pull_request"]);
        s.audience = "sts.amazonaws.com.cn".into();
        let text = to_json(&render(&s, &ProviderPlan::Create).unwrap());
        assert_eq!(text.matches("sts.amazonaws.com.cn").count(), 2);
        assert!(!text.contains("arn:aws:"));
    }
}

//! Renders the CloudFormation template from a spec.
//!
//! `templates/github-oidc.json` holds the whole shape (provider, role, outputs) as a valid
//! template of its own; rendering keeps the parts a stack needs and fills in the values.

use serde_json::{Map, Value, json};

use crate::issuer::Issuer;
use crate::spec::{INLINE_POLICY_NAME, PolicyRef, Role, Spec};

const SKELETON: &str = include_str!("../templates/github-oidc.json");

pub const PROVIDER_ID: &str = "GitHubOidcProvider";
pub const ROLE_ID: &str = "GitHubActionsRole";

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
            let props = &mut resources[PROVIDER_ID]["Properties"];
            props["Url"] = json!(spec.issuer.url());
            props["ClientIdList"] = json!([spec.audience]);
            json!({ "Ref": PROVIDER_ID })
        }
        ProviderPlan::Existing(arn) => {
            resources.remove(PROVIDER_ID);
            json!(arn)
        }
    };

    match &spec.role {
        Some(role) => {
            let props = resources[ROLE_ID]["Properties"].as_object_mut().expect("the role has Properties");
            props.insert("RoleName".into(), json!(role.name));
            props.insert(
                "AssumeRolePolicyDocument".into(),
                trust_policy(&spec.issuer, &spec.audience, role, provider_ref.clone()),
            );
            set_permissions(props, role);
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

/// The role's trust policy. `aud` is always checked with `StringEquals`; `sub` with
/// `StringEquals` unless a pattern carries a wildcard, which only `StringLike` honours;
/// `repository_id`, when given, with `StringEquals`. Never `ForAnyValue:`/`ForAllValues:`,
/// which pass when the claim is missing.
pub fn trust_policy(issuer: &Issuer, audience: &str, role: &Role, principal: Value) -> Value {
    let subjects: Vec<&str> = role.subjects.iter().map(|s| s.pattern.as_str()).collect();
    let wildcard = role.subjects.iter().any(|s| s.has_wildcard());
    let mut exact = Map::new();
    exact.insert(issuer.condition_key("aud"), json!(audience));
    if !wildcard {
        exact.insert(issuer.condition_key("sub"), json!(subjects));
    }
    if !role.repository_ids.is_empty() {
        exact.insert(issuer.condition_key("repository_id"), json!(role.repository_ids));
    }
    let mut condition = Map::new();
    condition.insert("StringEquals".into(), Value::Object(exact));
    if wildcard {
        condition.insert("StringLike".into(), json!({ issuer.condition_key("sub"): subjects }));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": principal },
            "Action": crate::policy::ASSUME_ACTION,
            "Condition": condition
        }]
    })
}

fn set_permissions(props: &mut Map<String, Value>, role: &Role) {
    if let Some(description) = &role.description {
        props.insert("Description".into(), json!(description));
    }
    if let Some(path) = &role.path {
        props.insert("Path".into(), json!(path));
    }
    if let Some(seconds) = role.max_session_duration {
        props.insert("MaxSessionDuration".into(), json!(seconds));
    }
    if !role.managed_policies.is_empty() {
        props.insert("ManagedPolicyArns".into(), role.managed_policies.iter().map(policy_arn).collect());
    }
    if let Some(boundary) = &role.boundary {
        props.insert("PermissionsBoundary".into(), policy_arn(boundary));
    }
    if let Some(document) = &role.inline_policy {
        props.insert("Policies".into(), json!([{ "PolicyName": INLINE_POLICY_NAME, "PolicyDocument": document }]));
    }
}

/// An AWS-managed policy's ARN takes the stack's partition, never a hard-coded `arn:aws:`.
fn policy_arn(policy: &PolicyRef) -> Value {
    match policy {
        PolicyRef::Arn(arn) => json!(arn),
        PolicyRef::AwsManaged(name) => json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}") }),
    }
}

/// The template as CloudFormation receives it and `render` prints it.
pub fn to_json(template: &Value) -> String {
    serde_json::to_string_pretty(template).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SpecArgs;
    use crate::issuer::Partition;

    const ARN: &str = "arn:aws-us-gov:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn spec_with(patterns: &[&str], tweak: impl Fn(&mut SpecArgs)) -> Spec {
        let mut args = SpecArgs::default();
        args.trust.repo_patterns = patterns.iter().map(|s| s.to_string()).collect();
        if !patterns.is_empty() {
            args.role.role_name = Some("deploy".into());
        }
        tweak(&mut args);
        Spec::from_args(&args, Partition::Aws).unwrap()
    }

    fn spec(patterns: &[&str]) -> Spec {
        spec_with(patterns, |_| {})
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    fn role_props(t: &Value) -> &Value {
        &t["Resources"][ROLE_ID]["Properties"]
    }

    #[test]
    fn provider_only() {
        let t = render(&spec(&[]), &ProviderPlan::Create).unwrap();
        assert_eq!(keys(&t["Resources"]), [PROVIDER_ID]);
        assert_eq!(keys(&t["Outputs"]), ["ProviderArn"]);
        let provider = &t["Resources"][PROVIDER_ID]["Properties"];
        assert_eq!(provider["Url"], "https://token.actions.githubusercontent.com");
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
        assert_eq!(keys(role_props(&t)), ["RoleName", "AssumeRolePolicyDocument"]);
        assert_eq!(role_props(&t)["RoleName"], "deploy");
        assert_eq!(
            role_props(&t)["AssumeRolePolicyDocument"],
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
        let condition = &role_props(&t)["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
        assert_eq!(
            condition,
            &json!({
                "StringLike": {"token.actions.githubusercontent.com:sub":
                    ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*"]},
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
            })
        );
        assert!(!to_json(&t).contains("ForAllValues") && !to_json(&t).contains("ForAnyValue"));
    }

    #[test]
    fn repository_ids_are_required_with_string_equals() {
        let s = spec_with(&["repo:acme/app:pull_request"], |a| a.trust.repository_ids = vec!["42".into(), "43".into()]);
        let t = render(&s, &ProviderPlan::Create).unwrap();
        assert_eq!(
            role_props(&t)["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"],
            json!({
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": ["repo:acme/app:pull_request"],
                "token.actions.githubusercontent.com:repository_id": ["42", "43"]
            })
        );
    }

    #[test]
    fn every_issuer_sets_url_keys_and_principal_together() {
        for (url, prefix) in [
            ("https://token.actions.githubusercontent.com/octo", "token.actions.githubusercontent.com/octo"),
            ("https://ghe.example.com/_services/token", "ghe.example.com/_services/token"),
            ("https://token.actions.octocorp.ghe.com", "token.actions.octocorp.ghe.com"),
        ] {
            let s = spec_with(&["repo:acme/app:environment:prod"], |a| a.trust.issuer_url = Some(url.into()));
            let t = render(&s, &ProviderPlan::Create).unwrap();
            assert_eq!(t["Resources"][PROVIDER_ID]["Properties"]["Url"], url);
            let condition = &role_props(&t)["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"];
            assert_eq!(keys(condition), [format!("{prefix}:aud"), format!("{prefix}:sub")]);
            assert!(!to_json(&t).contains("token.actions.githubusercontent.com:"), "{url}");
        }
    }

    #[test]
    fn permissions_session_path_and_description() {
        let dir = tempfile::tempdir().unwrap();
        let inline = dir.path().join("policy.json");
        std::fs::write(
            &inline,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
        )
        .unwrap();
        let s = spec_with(&["repo:acme/app:environment:prod"], |a| {
            a.role.policy_arns = vec!["ReadOnlyAccess".into(), "arn:aws:iam::111122223333:policy/deploy".into()];
            a.role.permissions_boundary = Some("arn:aws:iam::111122223333:policy/boundary".into());
            a.role.inline_policy = Some(inline.clone());
            a.role.max_session_duration = Some("12h".into());
            a.role.role_path = Some("/ci/".into());
            a.role.role_description = Some("Deploys acme/app".into());
        });
        let t = render(&s, &ProviderPlan::Create).unwrap();
        let props = role_props(&t);
        assert_eq!(props["Description"], "Deploys acme/app");
        assert_eq!(props["Path"], "/ci/");
        assert_eq!(props["MaxSessionDuration"], 43200);
        assert_eq!(
            props["ManagedPolicyArns"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}, "arn:aws:iam::111122223333:policy/deploy"])
        );
        assert_eq!(props["PermissionsBoundary"], "arn:aws:iam::111122223333:policy/boundary");
        assert_eq!(props["Policies"][0]["PolicyName"], "gh-oidc-inline");
        assert_eq!(props["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"], "s3:ListBucket");
    }

    #[test]
    fn role_trusting_an_existing_provider_by_arn() {
        let t = render(&spec(&["repo:acme/app:*"]), &ProviderPlan::Existing(ARN.into())).unwrap();
        assert_eq!(keys(&t["Resources"]), [ROLE_ID]);
        let statement = &role_props(&t)["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(statement["Principal"]["Federated"], ARN);
        assert_eq!(t["Outputs"]["ProviderArn"]["Value"], ARN);
    }

    #[test]
    fn nothing_to_render_when_the_provider_exists_and_no_role_is_asked() {
        assert_eq!(render(&spec(&[]), &ProviderPlan::Existing(ARN.into())), None);
    }

    #[test]
    fn the_audience_reaches_provider_and_role() {
        let s = spec_with(&["repo:acme/app:pull_request"], |a| a.trust.audience = Some("sts.amazonaws.com.cn".into()));
        let text = to_json(&render(&s, &ProviderPlan::Create).unwrap());
        assert_eq!(text.matches("sts.amazonaws.com.cn").count(), 2);
        assert!(!text.contains("arn:aws:"));
    }
}

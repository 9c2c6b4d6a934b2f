//! `gh-oidc explain`: would a GitHub token with these claims be allowed to assume the role,
//! and if not, which condition stops it and what would let it in. This answers "Not
//! authorized to perform sts:AssumeRoleWithWebIdentity" without guesswork.

use serde::Serialize;
use serde_json::Value;

use crate::issuer::Issuer;
use crate::policy::{self, Blocker, Claims, Verdict};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub role: String,
    pub allowed: bool,
    /// The statement (counted from 1) that decided, when one did.
    pub statement: Option<usize>,
    pub reasons: Vec<Reason>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub statement: usize,
    pub operator: String,
    pub key: String,
    pub expected: Vec<String>,
    pub actual: Option<Vec<String>>,
    pub fix: String,
}

/// The token's claims as condition keys of `issuer`.
pub fn claims(issuer: &Issuer, pairs: &[(String, String)]) -> Claims {
    let mut claims = Claims::default();
    for (name, value) in pairs {
        claims.insert(&issuer.condition_key(name), value);
    }
    claims
}

pub fn explain(role: &str, document: &Value, issuer: &Issuer, claims: &Claims) -> Explanation {
    // A principal written as an intrinsic (a rendered template's `Ref`) is the stack's own
    // provider for this issuer.
    let from_issuer = |principal: &Value| match principal.as_str() {
        Some(arn) => {
            arn.rsplit_once("oidc-provider/").is_some_and(|(_, url)| url.eq_ignore_ascii_case(issuer.host_path()))
        }
        None => true,
    };
    let (allowed, statement, reasons, summary) = match policy::evaluate(document, claims, from_issuer) {
        Verdict::Allowed(i) => (
            true,
            Some(i + 1),
            vec![],
            format!("ALLOWED: statement {} of {role}'s trust policy admits this token.", i + 1),
        ),
        Verdict::Denied(i) => (
            false,
            Some(i + 1),
            vec![],
            format!("REFUSED: statement {} of {role}'s trust policy denies this token explicitly.", i + 1),
        ),
        Verdict::NotAllowed(blocked) if blocked.is_empty() => (
            false,
            None,
            vec![],
            format!(
                "REFUSED: no statement of {role}'s trust policy lets tokens from {} assume it: none allows \
                 sts:AssumeRoleWithWebIdentity with the provider oidc-provider/{} as its Federated principal.",
                issuer.url(),
                issuer.host_path()
            ),
        ),
        Verdict::NotAllowed(blocked) => {
            let reasons = blocked
                .into_iter()
                .flat_map(|(i, blockers)| blockers.into_iter().map(move |b| reason(i + 1, b)))
                .collect();
            (false, None, reasons, format!("REFUSED: {role}'s trust policy does not admit this token."))
        }
    };
    Explanation { role: role.to_string(), allowed, statement, reasons, summary }
}

fn reason(statement: usize, b: Blocker) -> Reason {
    let claim = b.key.rsplit_once(':').map_or(b.key.as_str(), |(_, claim)| claim).to_ascii_lowercase();
    let actual = b.actual.as_ref().map(|a| a.join(", "));
    let fix = match (claim.as_str(), &actual) {
        (_, None) => format!("this check needs the token's '{claim}' claim: pass it with --claim {claim}=VALUE"),
        ("sub", Some(sub)) => sub_fix(sub, &b.expected),
        ("aud", Some(aud)) => format!(
            "the workflow requests audience '{aud}'; request one of the trusted ones (the `audience:` input of \
             aws-actions/configure-aws-credentials), or trust it with --audience '{aud}'"
        ),
        ("repository_id", Some(id)) => {
            format!("repository id {id} is not trusted; if this is the right repository, add --repository-id {id}")
        }
        (_, Some(value)) => format!("'{claim}' is '{value}'; the condition needs one of the listed values"),
    };
    Reason { statement, operator: b.operator, key: b.key, expected: b.expected, actual: b.actual, fix }
}

/// The most common mismatch since July 2026: one side uses the immutable-ID form.
fn sub_fix(sub: &str, expected: &[String]) -> String {
    let id_form = |s: &str| s.split(':').nth(1).is_some_and(|repo| repo.contains('@'));
    if !id_form(sub) && expected.iter().all(|e| id_form(e)) {
        return "the role trusts the immutable-ID form (repo:OWNER@OWNER_ID/REPO@REPO_ID:...), but this sub names \
                the repository only; check which form the repository emits \
                (GET /repos/OWNER/REPO/actions/oidc/customization/sub)"
            .to_string();
    }
    if id_form(sub) && !expected.iter().any(|e| id_form(e)) {
        return format!(
            "this sub uses the immutable-ID form, which repositories created or renamed after 15 July 2026 emit; \
             trust it with --repo-pattern '{sub}' (or --repo OWNER@OWNER_ID/REPO@REPO_ID with its qualifier)"
        );
    }
    match crate::subject::builder_flags(sub) {
        Some(flags) => {
            format!("no trusted pattern matches; to admit exactly this run, add {flags} (or --repo-pattern '{sub}')")
        }
        None => format!("no trusted pattern matches; to admit exactly this run, add --repo-pattern '{sub}'"),
    }
}

impl Explanation {
    pub fn text(&self) -> Vec<String> {
        let mut lines = vec![self.summary.clone()];
        for r in &self.reasons {
            let actual = r.actual.as_ref().map_or_else(|| "missing".to_string(), |a| format!("'{}'", a.join("', '")));
            lines.push(format!(
                "  statement {}: {} {} is {actual}, expected {}",
                r.statement,
                r.operator,
                r.key,
                r.expected.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(" or ")
            ));
            lines.push(format!("    fix: {}", r.fix));
        }
        lines
    }
}

/// The trust policy in a file: a policy document, or a template's role (`role` picks one
/// by RoleName or logical id when there are several).
pub fn policy_from_file(document: &Value, role: Option<&str>) -> Result<(String, Value), String> {
    if document.get("Statement").is_some() {
        return Ok((role.unwrap_or("the policy").to_string(), document.clone()));
    }
    let roles: Vec<(&String, &Value)> = document["Resources"]
        .as_object()
        .ok_or("neither a policy document (no Statement) nor a template (no Resources)")?
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .collect();
    let name_of = |(id, r): &(&String, &Value)| r["Properties"]["RoleName"].as_str().unwrap_or(id).to_string();
    let chosen = match role {
        Some(wanted) => roles.iter().find(|r| r.0 == wanted || name_of(r) == wanted),
        None if roles.len() == 1 => roles.first(),
        None => None,
    };
    let Some(found) = chosen else {
        let names: Vec<String> = roles.iter().map(name_of).collect();
        return Err(match role {
            Some(wanted) => format!("the template has no role '{wanted}' (roles: {})", names.join(", ")),
            None if names.is_empty() => "the template has no AWS::IAM::Role".to_string(),
            None => format!("the template has several roles; pick one with --role-name ({})", names.join(", ")),
        });
    };
    Ok((name_of(found), found.1["Properties"]["AssumeRolePolicyDocument"].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn document(sub_operator: &str, subjects: &[&str]) -> Value {
        let mut condition = json!({"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:repository_id": "42"}});
        condition[sub_operator]["token.actions.githubusercontent.com:sub"] = json!(subjects);
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition}]})
    }

    fn run(doc: &Value, sub: &str, more: &[(&str, &str)]) -> Explanation {
        let issuer = Issuer::default();
        let mut pairs =
            vec![("sub".to_string(), sub.to_string()), ("aud".to_string(), "sts.amazonaws.com".to_string())];
        pairs.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        explain("gha-deploy", doc, &issuer, &claims(&issuer, &pairs))
    }

    #[test]
    fn an_admitted_token() {
        let e = run(
            &document("StringLike", &["repo:acme/app:ref:refs/heads/*"]),
            "repo:acme/app:ref:refs/heads/x",
            &[("repository_id", "42")],
        );
        assert!(e.allowed);
        assert_eq!(e.summary, "ALLOWED: statement 1 of gha-deploy's trust policy admits this token.");
    }

    #[test]
    fn each_blocking_condition_is_named_with_its_fix() {
        let e = run(
            &document("StringEquals", &["repo:acme/app:ref:refs/heads/main"]),
            "repo:acme/app:ref:refs/heads/feature",
            &[],
        );
        assert!(!e.allowed);
        let keys: Vec<&str> = e.reasons.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["token.actions.githubusercontent.com:repository_id", "token.actions.githubusercontent.com:sub"]
        );
        assert_eq!(
            e.reasons[0].fix,
            "this check needs the token's 'repository_id' claim: pass it with --claim repository_id=VALUE"
        );
        assert!(e.reasons[1].fix.contains("--repo-pattern 'repo:acme/app:ref:refs/heads/feature'"));
        assert_eq!(
            e.text()[1],
            "  statement 1: StringEquals token.actions.githubusercontent.com:repository_id is missing, expected '42'"
        );

        let e = run(
            &document("StringEquals", &["repo:acme/app:pull_request"]),
            "repo:acme/app:pull_request",
            &[("repository_id", "7")],
        );
        assert_eq!(e.reasons.len(), 1);
        assert!(e.reasons[0].fix.contains("add --repository-id 7"));
    }

    #[test]
    fn the_id_form_mismatch_is_recognised_both_ways() {
        let ids = document("StringEquals", &["repo:acme@1/app@2:ref:refs/heads/main"]);
        let e = run(&ids, "repo:acme/app:ref:refs/heads/main", &[("repository_id", "42")]);
        assert!(e.reasons[0].fix.starts_with("the role trusts the immutable-ID form"), "{}", e.reasons[0].fix);

        let names = document("StringEquals", &["repo:acme/app:ref:refs/heads/main"]);
        let e = run(&names, "repo:acme@1/app@2:ref:refs/heads/main", &[("repository_id", "42")]);
        assert!(e.reasons[0].fix.starts_with("this sub uses the immutable-ID form"), "{}", e.reasons[0].fix);
    }

    #[test]
    fn a_wrong_audience_and_a_foreign_issuer() {
        let doc = document("StringEquals", &["repo:a/b:pull_request"]);
        let issuer = Issuer::default();
        let c = claims(
            &issuer,
            &[
                ("sub".into(), "repo:a/b:pull_request".into()),
                ("aud".into(), "sigstore".into()),
                ("repository_id".into(), "42".into()),
            ],
        );
        let e = explain("r", &doc, &issuer, &c);
        assert!(e.reasons[0].fix.contains("requests audience 'sigstore'"), "{:?}", e.reasons);

        let ghes = Issuer::parse("https://ghe.example.com/_services/token").unwrap();
        let e = explain("r", &doc, &ghes, &claims(&ghes, &[("sub".into(), "repo:a/b:pull_request".into())]));
        assert!(!e.allowed);
        assert!(
            e.summary
                .contains("no statement of r's trust policy lets tokens from https://ghe.example.com/_services/token")
        );
    }

    #[test]
    fn policies_are_read_from_documents_and_templates() {
        let doc = document("StringEquals", &["x"]);
        assert_eq!(policy_from_file(&doc, None).unwrap().1, doc);

        let template = json!({"Resources": {
            "A": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "first", "AssumeRolePolicyDocument": {"Statement": []}}},
            "B": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": doc}},
            "P": {"Type": "AWS::IAM::OIDCProvider"}}});
        assert!(
            policy_from_file(&template, None)
                .unwrap_err()
                .contains("several roles; pick one with --role-name (first, B)")
        );
        assert_eq!(policy_from_file(&template, Some("B")).unwrap(), ("B".to_string(), doc.clone()));
        assert_eq!(policy_from_file(&template, Some("first")).unwrap().0, "first");
        assert!(policy_from_file(&template, Some("nope")).unwrap_err().contains("no role 'nope'"));
        assert!(policy_from_file(&json!({"x": 1}), None).unwrap_err().contains("neither a policy document"));
    }
}

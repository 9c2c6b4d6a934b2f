//! IAM's evaluation of a trust policy for a web-identity token, as far as GitHub tokens need:
//! `StringEquals`, `StringLike` (`*` any run, `?` one character, case-sensitive), their
//! `Not`/`IgnoreCase`/`IfExists` forms and the `ForAllValues:`/`ForAnyValue:` set operators.
//! Operators in a block must all hold, keys within an operator all hold, and any one of a
//! key's values may match. An explicit Deny wins over any Allow.

use std::collections::BTreeMap;

use serde_json::Value;

pub const ASSUME_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// The claims of a token, by full condition key (`token.actions.githubusercontent.com:sub`).
#[derive(Debug, Clone, Default)]
pub struct Claims(BTreeMap<String, Vec<String>>);

impl Claims {
    pub fn insert(&mut self, key: &str, value: &str) {
        // Condition keys are case-insensitive; values are not.
        self.0.entry(key.to_ascii_lowercase()).or_default().push(value.to_string());
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// A condition that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub operator: String,
    pub key: String,
    pub expected: Vec<String>,
    /// `None` when the token has no such claim.
    pub actual: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The statement at this index admits the token.
    Allowed(usize),
    /// The Deny statement at this index refuses it.
    Denied(usize),
    /// No Allow statement admits it: each applicable statement's failed conditions.
    NotAllowed(Vec<(usize, Vec<Blocker>)>),
}

/// Evaluates `document` (a trust policy) for `claims`. `principal_matches` decides whether a
/// statement's `Federated` principal is the provider the token comes from.
pub fn evaluate(document: &Value, claims: &Claims, principal_matches: impl Fn(&Value) -> bool) -> Verdict {
    let mut blocked = Vec::new();
    let mut allowed = None;
    for (index, statement) in statements(document).iter().enumerate() {
        let applies = action_matches(&statement["Action"])
            && statement["Principal"].get("Federated").is_some_and(|p| any_value(p, &principal_matches));
        if !applies {
            continue;
        }
        let blockers = failed_conditions(&statement["Condition"], claims);
        let effect = statement["Effect"].as_str().unwrap_or("");
        match (effect, blockers.is_empty()) {
            ("Deny", true) => return Verdict::Denied(index),
            ("Allow", true) => allowed = allowed.or(Some(index)),
            ("Allow", false) => blocked.push((index, blockers)),
            _ => {}
        }
    }
    allowed.map_or(Verdict::NotAllowed(blocked), Verdict::Allowed)
}

/// Whether an Allow statement names `provider_arn` as its Federated principal.
pub fn trusts_provider(document: &Value, provider_arn: &str) -> bool {
    statements(document)
        .iter()
        .any(|s| s["Effect"] == "Allow" && strings(&s["Principal"]["Federated"]).iter().any(|p| p == provider_arn))
}

/// Whether an identity policy allows `"Action": "*"`: full control over its resources.
pub fn allows_every_action(document: &Value) -> bool {
    statements(document).iter().any(|s| s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| a == "*"))
}

/// `Statement` is an object or an array of objects.
pub fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&document["Statement"]],
        _ => vec![],
    }
}

fn any_value(value: &Value, matches: &impl Fn(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(matches),
        other => matches(other),
    }
}

/// Whether a statement's `Action` covers `sts:AssumeRoleWithWebIdentity`.
pub fn action_matches(action: &Value) -> bool {
    any_value(action, &|a| a.as_str().is_some_and(|a| string_like_ignore_case(a, ASSUME_ACTION)))
}

/// The conditions of one block that do not hold for `claims`.
pub fn failed_conditions(block: &Value, claims: &Claims) -> Vec<Blocker> {
    let Some(operators) = block.as_object() else { return vec![] };
    let mut failed = Vec::new();
    for (operator, keys) in operators {
        for (key, expected) in keys.as_object().into_iter().flatten() {
            let expected = strings(expected);
            let actual = claims.get(key);
            if !holds(operator, &expected, actual) {
                failed.push(Blocker {
                    operator: operator.clone(),
                    key: key.clone(),
                    expected,
                    actual: actual.map(<[String]>::to_vec),
                });
            }
        }
    }
    failed
}

/// A condition value is a string or an array of strings (numbers and booleans as text).
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

#[derive(Clone, Copy)]
enum SetOperator {
    Single,
    ForAllValues,
    ForAnyValue,
}

/// Whether one condition (operator, key, expected values) holds for the request's values.
pub fn holds(operator: &str, expected: &[String], actual: Option<&[String]>) -> bool {
    let (set, base) = if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (SetOperator::ForAllValues, rest)
    } else if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (SetOperator::ForAnyValue, rest)
    } else {
        (SetOperator::Single, operator)
    };
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (base, false),
    };
    let (negated, matcher): (bool, fn(&str, &str) -> bool) = match base {
        "StringEquals" => (false, |e, v| e == v),
        "StringNotEquals" => (true, |e, v| e == v),
        "StringEqualsIgnoreCase" => (false, |e, v| e.eq_ignore_ascii_case(v)),
        "StringNotEqualsIgnoreCase" => (true, |e, v| e.eq_ignore_ascii_case(v)),
        "StringLike" => (false, string_like),
        "StringNotLike" => (true, string_like),
        // An operator this evaluator does not know is never assumed to hold.
        _ => return false,
    };
    let Some(values) = actual.filter(|v| !v.is_empty()) else {
        return match set {
            _ if if_exists => true,
            // The trap behind FIELD-NOTES §2 item 4: vacuously true on a missing claim.
            SetOperator::ForAllValues => true,
            SetOperator::ForAnyValue => false,
            SetOperator::Single => negated,
        };
    };
    let matches = |v: &String| expected.iter().any(|e| matcher(e, v)) != negated;
    match set {
        SetOperator::Single | SetOperator::ForAnyValue => values.iter().any(matches),
        SetOperator::ForAllValues => values.iter().all(matches),
    }
}

/// IAM's `StringLike`: `*` matches any run of characters (also none), `?` exactly one.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was, and how much of the value it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((star_p, star_v)) = star {
            pi = star_p + 1;
            vi = star_v + 1;
            star = Some((star_p, star_v + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn string_like_ignore_case(pattern: &str, value: &str) -> bool {
    string_like(&pattern.to_ascii_lowercase(), &value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_is_allowed_only_by_an_allow_of_star() {
        assert!(allows_every_action(
            &json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "*"], "Resource": "*"}]})
        ));
        assert!(allows_every_action(&json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})));
        assert!(!allows_every_action(&json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})));
        assert!(!allows_every_action(&json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})));
    }

    #[test]
    fn string_like_follows_iam() {
        for (pattern, value, expected) in [
            ("repo:acme/app:*", "repo:acme/app:ref:refs/heads/main", true),
            ("repo:acme/app:*", "repo:acme/app:", true),
            ("repo:acme/app:*", "repo:acme/app-evil:pull_request", false),
            ("repo:acme*", "repo:acme-evil/x:pull_request", true),
            ("repo:acme/app:ref:refs/heads/release-?", "repo:acme/app:ref:refs/heads/release-1", true),
            ("repo:acme/app:ref:refs/heads/release-?", "repo:acme/app:ref:refs/heads/release-10", false),
            ("repo:acme/app:ref:refs/tags/v*.*", "repo:acme/app:ref:refs/tags/v1.2", true),
            ("repo:acme/app:ref:refs/tags/v*.*", "repo:acme/app:ref:refs/tags/v1", false),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("REPO:acme/app:*", "repo:acme/app:pull_request", false),
            ("repo:acme/app:pull_request", "repo:acme/app:pull_request", true),
        ] {
            assert_eq!(string_like(pattern, value), expected, "{pattern} ~ {value}");
        }
    }

    fn v(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    /// Operator, expected values, the request's values, whether the condition holds.
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [String]>, bool);

    #[test]
    fn operators_on_present_and_missing_claims() {
        let some = v(&["repo:acme/app:pull_request"]);
        let table: [Case; 16] = [
            ("StringEquals", &["repo:acme/app:pull_request"], Some(&some), true),
            ("StringEquals", &["repo:acme/app:*"], Some(&some), false),
            ("StringEquals", &["REPO:acme/app:pull_request"], Some(&some), false),
            ("StringEqualsIgnoreCase", &["REPO:acme/app:pull_request"], Some(&some), true),
            ("StringLike", &["repo:acme/app:*"], Some(&some), true),
            ("StringLike", &["repo:other/*", "repo:acme/app:*"], Some(&some), true),
            ("StringNotEquals", &["repo:acme/app:pull_request"], Some(&some), false),
            ("StringNotLike", &["repo:evil/*"], Some(&some), true),
            ("StringEquals", &["x"], None, false),
            ("StringLike", &["*"], None, false),
            ("StringNotEquals", &["x"], None, true),
            ("StringEqualsIfExists", &["x"], None, true),
            ("ForAllValues:StringEquals", &["x"], None, true),
            ("ForAnyValue:StringEquals", &["x"], None, false),
            ("ForAnyValue:StringLike", &["repo:acme/*"], Some(&some), true),
            ("NumericEquals", &["1"], Some(&some), false),
        ];
        for (operator, expected, actual, holds_) in table {
            assert_eq!(holds(operator, &v(expected), actual), holds_, "{operator} {expected:?} {actual:?}");
        }
    }

    const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn policy(condition: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})
    }

    fn claims(sub: &str, aud: &str) -> Claims {
        let mut c = Claims::default();
        c.insert("token.actions.githubusercontent.com:sub", sub);
        c.insert("token.actions.githubusercontent.com:aud", aud);
        c
    }

    fn is_provider(p: &Value) -> bool {
        p == PROVIDER
    }

    #[test]
    fn every_key_of_every_operator_must_hold() {
        let doc = policy(json!({
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": ["repo:acme/app:ref:refs/heads/*", "repo:acme/app:environment:prod"]}
        }));
        assert_eq!(
            evaluate(&doc, &claims("repo:acme/app:environment:prod", "sts.amazonaws.com"), is_provider),
            Verdict::Allowed(0)
        );
        assert_eq!(
            evaluate(&doc, &claims("repo:acme/app:ref:refs/heads/x", "sts.amazonaws.com"), is_provider),
            Verdict::Allowed(0)
        );
        match evaluate(&doc, &claims("repo:acme/app:pull_request", "sigstore"), is_provider) {
            Verdict::NotAllowed(blocked) => {
                let keys: Vec<&str> = blocked[0].1.iter().map(|b| b.key.as_str()).collect();
                assert_eq!(
                    keys,
                    ["token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"]
                );
                assert_eq!(blocked[0].1[1].actual, Some(v(&["repo:acme/app:pull_request"])));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn condition_keys_are_case_insensitive_values_are_not() {
        let doc =
            policy(json!({"StringEquals": {"Token.Actions.GitHubUserContent.com:Sub": "repo:acme/app:pull_request"}}));
        assert_eq!(evaluate(&doc, &claims("repo:acme/app:pull_request", "a"), is_provider), Verdict::Allowed(0));
        assert!(matches!(
            evaluate(&doc, &claims("repo:Acme/app:pull_request", "a"), is_provider),
            Verdict::NotAllowed(_)
        ));
    }

    #[test]
    fn for_all_values_passes_when_the_claim_is_missing() {
        // The SAM-style policy that lets in every repository: nothing constrains `sub`.
        let doc =
            policy(json!({"ForAllValues:StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}));
        let mut no_sub = Claims::default();
        no_sub.insert("token.actions.githubusercontent.com:aud", "sts.amazonaws.com");
        assert_eq!(evaluate(&doc, &no_sub, is_provider), Verdict::Allowed(0));
    }

    #[test]
    fn statements_action_principal_and_deny() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/other"},
             "Action": "sts:AssumeRoleWithWebIdentity"},
            {"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Federated": [PROVIDER]}, "Action": ["sts:*"],
             "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}
        ]});
        assert_eq!(
            evaluate(&doc, &claims("repo:a/b:pull_request", "sts.amazonaws.com"), is_provider),
            Verdict::Allowed(2)
        );

        let mut with_deny = doc.clone();
        with_deny["Statement"].as_array_mut().unwrap().push(json!({
            "Effect": "Deny", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:a/b:pull_request"}}}));
        assert_eq!(
            evaluate(&with_deny, &claims("repo:a/b:pull_request", "sts.amazonaws.com"), is_provider),
            Verdict::Denied(3)
        );

        let single = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "*"}});
        assert_eq!(evaluate(&single, &claims("x", "y"), is_provider), Verdict::Allowed(0));
        assert_eq!(evaluate(&json!({}), &claims("x", "y"), is_provider), Verdict::NotAllowed(vec![]));
    }
}

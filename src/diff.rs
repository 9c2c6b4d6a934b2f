//! What a change set does to each role's trust and permissions, read from the properties
//! before and after (`IncludePropertyValues`): subjects, audiences, issuers and repository ids
//! added or removed, policies attached or detached, boundary and session length. A change
//! that lets more workflows assume an existing role is marked as broadening access.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::aws::cloudformation::Change;
use crate::policy::{self, string_like};
use crate::ui::{Tone, Ui};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleDiff {
    pub logical_id: String,
    pub role_name: Option<String>,
    pub action: String,
    pub subjects_added: Vec<String>,
    pub subjects_removed: Vec<String>,
    pub audiences_added: Vec<String>,
    pub audiences_removed: Vec<String>,
    pub issuers_added: Vec<String>,
    pub issuers_removed: Vec<String>,
    pub repository_ids_added: Vec<String>,
    pub repository_ids_removed: Vec<String>,
    pub policies_attached: Vec<String>,
    pub policies_detached: Vec<String>,
    pub inline_policies_changed: Vec<String>,
    pub boundary: Option<Transition<String>>,
    pub max_session_duration: Option<Transition<u64>>,
    pub broadens_access: bool,
}

/// A value before and after; `None` for absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition<T> {
    pub before: Option<T>,
    pub after: Option<T>,
}

/// A `sub` pattern as IAM reads it: under `StringLike` its `*` and `?` are wildcards, under
/// `StringEquals` they are plain characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Trusted {
    pattern: String,
    like: bool,
}

impl Trusted {
    fn wild(&self) -> bool {
        self.like && self.pattern.contains(['*', '?'])
    }
}

/// The trust and permissions of one role, as a set of facts.
#[derive(Debug, Default)]
struct Access {
    subjects: BTreeSet<Trusted>,
    audiences: BTreeSet<String>,
    issuers: BTreeSet<String>,
    repository_ids: BTreeSet<String>,
    policies: BTreeSet<String>,
    inline: Vec<(String, Value)>,
    boundary: Option<String>,
    max_session: Option<u64>,
}

impl Access {
    fn of(properties: Option<&Value>) -> Access {
        let mut access = Access::default();
        let Some(props) = properties else { return access };
        for statement in policy::statements(&props["AssumeRolePolicyDocument"]) {
            if statement["Effect"] != "Allow" {
                continue;
            }
            for (operator, keys) in statement["Condition"].as_object().into_iter().flatten() {
                let like = operator.contains("StringLike");
                for (key, values) in keys.as_object().into_iter().flatten() {
                    let Some((issuer, claim)) = key.rsplit_once(':') else { continue };
                    let values = policy::strings(values);
                    match claim.to_ascii_lowercase().as_str() {
                        "sub" => {
                            access.issuers.insert(issuer.to_ascii_lowercase());
                            access.subjects.extend(values.into_iter().map(|pattern| Trusted { pattern, like }));
                        }
                        "aud" => {
                            access.issuers.insert(issuer.to_ascii_lowercase());
                            access.audiences.extend(values);
                        }
                        "repository_id" => access.repository_ids.extend(values),
                        _ => {}
                    }
                }
            }
        }
        access.policies = policy::strings(&props["ManagedPolicyArns"]).into_iter().collect();
        access.boundary = props["PermissionsBoundary"].as_str().map(str::to_string);
        access.max_session =
            props["MaxSessionDuration"].as_u64().or_else(|| props["MaxSessionDuration"].as_str()?.parse().ok());
        access.inline = props["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["PolicyName"].as_str()?.to_string(), p["PolicyDocument"].clone())))
            .collect();
        access
    }
}

/// One entry per role the change set adds, modifies or removes.
pub fn role_diffs(changes: &[Change]) -> Vec<RoleDiff> {
    changes.iter().filter(|c| c.resource_type == "AWS::IAM::Role").map(role_diff).collect()
}

fn role_diff(change: &Change) -> RoleDiff {
    let before = Access::of(change.before.as_ref());
    let after = Access::of(change.after.as_ref());
    let added = |b: &BTreeSet<String>, a: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
    let subjects = |from: &Access, to: &Access| -> Vec<String> {
        to.subjects.iter().filter(|s| !from.subjects.contains(s)).map(|s| s.pattern.clone()).collect()
    };
    let inline_changed: BTreeSet<String> = before
        .inline
        .iter()
        .filter(|p| !after.inline.contains(p))
        .chain(after.inline.iter().filter(|p| !before.inline.contains(p)))
        .map(|(name, _)| name.clone())
        .collect();
    let transition =
        |b: Option<&String>, a: Option<&String>| (b != a).then(|| Transition { before: b.cloned(), after: a.cloned() });
    let role_name = [&change.after, &change.before]
        .into_iter()
        .flatten()
        .find_map(|p| p["RoleName"].as_str().map(str::to_string))
        .or_else(|| change.physical_id.clone());

    let mut diff = RoleDiff {
        logical_id: change.logical_id.clone(),
        role_name,
        action: change.action.clone(),
        subjects_added: subjects(&before, &after),
        subjects_removed: subjects(&after, &before),
        audiences_added: added(&before.audiences, &after.audiences),
        audiences_removed: added(&after.audiences, &before.audiences),
        issuers_added: added(&before.issuers, &after.issuers),
        issuers_removed: added(&after.issuers, &before.issuers),
        repository_ids_added: added(&before.repository_ids, &after.repository_ids),
        repository_ids_removed: added(&after.repository_ids, &before.repository_ids),
        policies_attached: added(&before.policies, &after.policies),
        policies_detached: added(&after.policies, &before.policies),
        inline_policies_changed: inline_changed.into_iter().collect(),
        boundary: transition(before.boundary.as_ref(), after.boundary.as_ref()),
        max_session_duration: (before.max_session != after.max_session)
            .then_some(Transition { before: before.max_session, after: after.max_session }),
        broadens_access: false,
    };
    // A new role grants access where there was none, which is what was asked for; what needs
    // a second look is an existing role letting in more than before.
    diff.broadens_access = change.action == "Modify" && broadens(&before, &after);
    diff
}

fn broadens(before: &Access, after: &Access) -> bool {
    let new_subject = after.subjects.iter().any(|s| !before.subjects.iter().any(|old| covers(old, s)));
    let new_audience = after.audiences.difference(&before.audiences).next().is_some();
    let new_issuer = after.issuers.difference(&before.issuers).next().is_some();
    // Where ids were required, another id lets one more repository in, and dropping them
    // all drops the constraint. Requiring ids where there were none narrows.
    let ids_widened = !before.repository_ids.is_empty()
        && (after.repository_ids.is_empty()
            || after.repository_ids.difference(&before.repository_ids).next().is_some());
    new_subject || new_audience || new_issuer || ids_widened
}

/// Whether everything `new` matches, `old` already matched. Decided conservatively: when in
/// doubt, `new` is treated as wider.
fn covers(old: &Trusted, new: &Trusted) -> bool {
    if !new.wild() {
        return if old.wild() { string_like(&old.pattern, &new.pattern) } else { old.pattern == new.pattern };
    }
    if old == new {
        return true;
    }
    // `prefix*` covers any pattern that starts with the same literal prefix.
    old.like
        && old
            .pattern
            .strip_suffix('*')
            .is_some_and(|prefix| !prefix.contains(['*', '?']) && new.pattern.starts_with(prefix))
}

/// The diff as lines for people, under the change-set table.
pub fn text(ui: &Ui, diffs: &[RoleDiff]) -> Vec<String> {
    let mut lines = Vec::new();
    for d in diffs {
        let name = d.role_name.as_deref().unwrap_or(&d.logical_id);
        let mut header = format!("Role {name} ({}, {}):", d.logical_id, d.action);
        if d.broadens_access {
            header = format!("{header} {}", ui.paint(Tone::Bad, "BROADENS ACCESS"));
        }
        lines.push(header);
        let mut list = |sign: &str, what: &str, items: &[String]| {
            let tone = if sign == "+" { Tone::Good } else { Tone::Bad };
            lines.extend(items.iter().map(|item| format!("  {} {what} {item}", ui.paint(tone, sign))));
        };
        list("+", "subject", &d.subjects_added);
        list("-", "subject", &d.subjects_removed);
        list("+", "audience", &d.audiences_added);
        list("-", "audience", &d.audiences_removed);
        list("+", "issuer", &d.issuers_added);
        list("-", "issuer", &d.issuers_removed);
        list("+", "repository id", &d.repository_ids_added);
        list("-", "repository id", &d.repository_ids_removed);
        list("+", "policy", &d.policies_attached);
        list("-", "policy", &d.policies_detached);
        lines.extend(d.inline_policies_changed.iter().map(|n| format!("  ~ inline policy {n}")));
        if let Some(t) = &d.boundary {
            lines.push(format!("  ~ boundary {} → {}", or_none(t.before.as_deref()), or_none(t.after.as_deref())));
        }
        if let Some(t) = &d.max_session_duration {
            let show = |s: Option<u64>| s.map_or_else(|| "default (1h)".to_string(), duration);
            lines.push(format!("  ~ max session {} → {}", show(t.before), show(t.after)));
        }
    }
    lines
}

fn or_none(value: Option<&str>) -> &str {
    value.unwrap_or("none")
}

fn duration(seconds: u64) -> String {
    match (seconds / 3600, seconds % 3600 / 60) {
        (h, 0) => format!("{h}h"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Output;
    use serde_json::json;

    const P: &str = "token.actions.githubusercontent.com";

    fn role(sub_operator: &str, subjects: &[&str], audience: &str, extra: Value) -> Value {
        let mut condition = json!({"StringEquals": {format!("{P}:aud"): audience}});
        condition
            .as_object_mut()
            .unwrap()
            .entry(sub_operator)
            .or_insert(json!({}))
            .as_object_mut()
            .unwrap()
            .insert(format!("{P}:sub"), json!(subjects));
        let mut props = json!({"RoleName": "gha-deploy", "AssumeRolePolicyDocument": {"Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Condition": condition}]}});
        for (k, v) in extra.as_object().unwrap() {
            props[k] = v.clone();
        }
        props
    }

    fn modify(before: Value, after: Value) -> RoleDiff {
        let change = Change {
            action: "Modify".into(),
            logical_id: "GitHubActionsRole".into(),
            resource_type: "AWS::IAM::Role".into(),
            physical_id: Some("gha-deploy".into()),
            replacement: Some("False".into()),
            before: Some(before),
            after: Some(after),
        };
        role_diffs(&[change]).remove(0)
    }

    #[test]
    fn an_added_subject_broadens_and_is_listed() {
        let d = modify(
            role("StringEquals", &["repo:acme/app:ref:refs/heads/main"], "sts.amazonaws.com", json!({})),
            role(
                "StringEquals",
                &["repo:acme/app:ref:refs/heads/main", "repo:acme/app:environment:prod"],
                "sts.amazonaws.com",
                json!({}),
            ),
        );
        assert_eq!(d.subjects_added, ["repo:acme/app:environment:prod"]);
        assert!(d.subjects_removed.is_empty());
        assert!(d.broadens_access);
        assert_eq!(d.role_name.as_deref(), Some("gha-deploy"));
    }

    #[test]
    fn narrowing_a_wildcard_does_not_broaden() {
        let d = modify(
            role("StringLike", &["repo:acme/app:*"], "sts.amazonaws.com", json!({})),
            role("StringEquals", &["repo:acme/app:environment:prod"], "sts.amazonaws.com", json!({})),
        );
        assert_eq!(d.subjects_added, ["repo:acme/app:environment:prod"]);
        assert_eq!(d.subjects_removed, ["repo:acme/app:*"]);
        assert!(!d.broadens_access);
    }

    #[test]
    fn what_counts_as_broader() {
        let t = |pattern: &str, like: bool| Trusted { pattern: pattern.into(), like };
        // exact subjects under an old wildcard are covered
        assert!(covers(&t("repo:acme/app:*", true), &t("repo:acme/app:pull_request", false)));
        assert!(covers(&t("repo:acme/app:*", true), &t("repo:acme/app:ref:refs/tags/v*", true)));
        // a wildcard made broader, or moved from StringEquals to StringLike, is not
        assert!(!covers(&t("repo:acme/app:ref:refs/tags/v1*", true), &t("repo:acme/app:ref:refs/tags/*", true)));
        assert!(!covers(&t("repo:acme/app:*", false), &t("repo:acme/app:*", true)));
        assert!(!covers(&t("repo:acme/app:?", true), &t("repo:acme/app:*", true)));
        assert!(covers(&t("repo:acme/app:pull_request", false), &t("repo:acme/app:pull_request", true)));
    }

    #[test]
    fn audience_issuer_and_repository_ids() {
        let d = modify(
            role("StringEquals", &["repo:a/b:pull_request"], "sts.amazonaws.com", json!({})),
            role("StringEquals", &["repo:a/b:pull_request"], "other", json!({})),
        );
        assert_eq!(
            (d.audiences_added.clone(), d.audiences_removed.clone()),
            (vec!["other".to_string()], vec!["sts.amazonaws.com".to_string()])
        );
        assert!(d.broadens_access);

        let mut with_ids = role("StringEquals", &["repo:a/b:pull_request"], "sts.amazonaws.com", json!({}));
        with_ids["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
            [format!("{P}:repository_id")] = json!(["1"]);
        let without = role("StringEquals", &["repo:a/b:pull_request"], "sts.amazonaws.com", json!({}));
        let dropped = modify(with_ids.clone(), without.clone());
        assert_eq!(dropped.repository_ids_removed, ["1"]);
        assert!(dropped.broadens_access);
        let pinned = modify(without, with_ids);
        assert_eq!(pinned.repository_ids_added, ["1"]);
        assert!(!pinned.broadens_access, "adding the first id narrows");
    }

    #[test]
    fn permissions_boundary_and_session() {
        let d = modify(
            role(
                "StringEquals",
                &["repo:a/b:pull_request"],
                "a",
                json!({"ManagedPolicyArns": ["arn:p/Old"], "MaxSessionDuration": 3600}),
            ),
            role(
                "StringEquals",
                &["repo:a/b:pull_request"],
                "a",
                json!({
                "ManagedPolicyArns": ["arn:p/New"], "PermissionsBoundary": "arn:b", "MaxSessionDuration": 43200,
                "Policies": [{"PolicyName": "gh-oidc-inline", "PolicyDocument": {"Statement": []}}]}),
            ),
        );
        assert_eq!(d.policies_attached, ["arn:p/New"]);
        assert_eq!(d.policies_detached, ["arn:p/Old"]);
        assert_eq!(d.boundary, Some(Transition { before: None, after: Some("arn:b".into()) }));
        assert_eq!(d.max_session_duration, Some(Transition { before: Some(3600), after: Some(43200) }));
        assert_eq!(d.inline_policies_changed, ["gh-oidc-inline"]);
        assert!(!d.broadens_access, "permissions are not who may assume the role");

        let ui = Ui { color: false, interactive: false, output: Output::Text, show_account: false };
        assert_eq!(
            text(&ui, &[d]),
            [
                "Role gha-deploy (GitHubActionsRole, Modify):",
                "  + policy arn:p/New",
                "  - policy arn:p/Old",
                "  ~ inline policy gh-oidc-inline",
                "  ~ boundary none → arn:b",
                "  ~ max session 1h → 12h",
            ]
        );
    }

    #[test]
    fn a_new_role_lists_its_trust_without_the_broadening_mark() {
        let change = Change {
            action: "Add".into(),
            logical_id: "GitHubActionsRole".into(),
            resource_type: "AWS::IAM::Role".into(),
            physical_id: None,
            replacement: None,
            before: None,
            after: Some(role("StringLike", &["repo:a/b:*"], "sts.amazonaws.com", json!({}))),
        };
        let d = role_diffs(&[change]).remove(0);
        assert_eq!(d.subjects_added, ["repo:a/b:*"]);
        assert_eq!(d.audiences_added, ["sts.amazonaws.com"]);
        assert_eq!(d.issuers_added, [P]);
        assert!(!d.broadens_access);
        let ui = Ui { color: false, interactive: false, output: Output::Text, show_account: false };
        assert_eq!(text(&ui, &[d])[1], "  + subject repo:a/b:*");
    }
}

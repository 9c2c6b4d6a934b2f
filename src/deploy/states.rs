//! Decisions over CloudFormation states, as plain functions. Every stack and change-set
//! state the deploy flow meets is classified here, in one place.

use crate::aws::cloudformation::{ChangeSetKind, StackEvent};

/// What a deploy does with the stack as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Plan(ChangeSetKind),
    /// An earlier run left the stack empty, under review: clear it away, then create.
    ClearReview,
    /// Its creation failed and it holds nothing: it can only be deleted, then created afresh.
    ReplaceFailed,
    /// Another operation is running: follow it to its end, then look again.
    Wait,
    /// The stack cannot take a change set: why, and what to do about it.
    Refuse {
        why: String,
        fix: String,
    },
}

pub fn disposition(stack_name: &str, status: Option<&str>) -> Disposition {
    let Some(status) = status else {
        return Disposition::Plan(ChangeSetKind::Create);
    };
    let refuse = |why: &str, fix: String| Disposition::Refuse { why: why.to_string(), fix };
    match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Disposition::ReplaceFailed,
        "REVIEW_IN_PROGRESS" => Disposition::ClearReview,
        "UPDATE_ROLLBACK_FAILED" => refuse(
            "the rollback of an update failed",
            format!(
                "fix that resource, then run `aws cloudformation continue-update-rollback --stack-name {stack_name}` and run again"
            ),
        ),
        "DELETE_FAILED" => refuse(
            "its deletion failed",
            format!("fix that resource, then run `gh-oidc teardown --stack-name {stack_name}` again"),
        ),
        s if s.ends_with("_IN_PROGRESS") => Disposition::Wait,
        s if s.ends_with("_COMPLETE") => Disposition::Plan(ChangeSetKind::Update),
        _ => refuse("gh-oidc does not know this state", "check the stack in the console".to_string()),
    }
}

/// Where a change set stands after CreateChangeSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Pending,
    Ready,
    /// The template changes nothing: not an error.
    NoChanges,
    /// The stack changed while the change set was being made: plan again.
    Obsolete,
    Failed(String),
}

const NO_CHANGES: [&str; 2] = ["The submitted information didn't contain changes.", "No updates are to be performed."];

pub fn readiness(status: &str, execution_status: &str, reason: Option<&str>) -> Readiness {
    match (status, execution_status) {
        ("CREATE_PENDING" | "CREATE_IN_PROGRESS", _) => Readiness::Pending,
        ("CREATE_COMPLETE", "AVAILABLE") => Readiness::Ready,
        // CloudFormation can report the change set complete a moment before it may be executed.
        ("CREATE_COMPLETE", "UNAVAILABLE" | "") => Readiness::Pending,
        ("CREATE_COMPLETE", "OBSOLETE") => Readiness::Obsolete,
        ("FAILED", _) if reason.is_some_and(|r| NO_CHANGES.iter().any(|n| r.contains(n))) => Readiness::NoChanges,
        _ => Readiness::Failed(reason.unwrap_or("no reason given").to_string()),
    }
}

/// Whether a stack status is final, and if so whether the operation succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Running,
    Succeeded,
    Failed,
}

pub fn settled(status: &str) -> Settled {
    if status.ends_with("_IN_PROGRESS") {
        Settled::Running
    } else if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
        Settled::Failed
    } else {
        Settled::Succeeded
    }
}

/// The first thing that went wrong: the earliest `*_FAILED` event with a reason, skipping
/// the cancellations that follow it. `events` is newest first, as CloudFormation returns them.
pub fn root_cause(events: &[StackEvent]) -> Option<String> {
    events
        .iter()
        .rev()
        .filter(|e| e.status.ends_with("_FAILED"))
        .filter_map(|e| e.reason.as_deref().map(|r| (e, r)))
        .find(|(_, reason)| !reason.contains("cancelled"))
        .map(|(e, reason)| format!("{} ({}) {}: {}", e.logical_id, e.resource_type, e.status, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(logical_id: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: format!("{logical_id}-{status}"),
            timestamp: String::new(),
            logical_id: logical_id.into(),
            resource_type: "AWS::IAM::Role".into(),
            status: status.into(),
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn a_missing_stack_is_created_and_complete_ones_updated() {
        assert_eq!(disposition("s", None), Disposition::Plan(ChangeSetKind::Create));
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"] {
            assert_eq!(disposition("s", Some(s)), Disposition::Plan(ChangeSetKind::Update), "{s}");
        }
    }

    #[test]
    fn every_other_state_has_its_way_out() {
        for (status, expected) in [
            ("REVIEW_IN_PROGRESS", Disposition::ClearReview),
            ("ROLLBACK_COMPLETE", Disposition::ReplaceFailed),
            ("CREATE_FAILED", Disposition::ReplaceFailed),
            ("ROLLBACK_FAILED", Disposition::ReplaceFailed),
            ("CREATE_IN_PROGRESS", Disposition::Wait),
            ("UPDATE_IN_PROGRESS", Disposition::Wait),
            ("DELETE_IN_PROGRESS", Disposition::Wait),
            ("ROLLBACK_IN_PROGRESS", Disposition::Wait),
            ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Disposition::Wait),
            ("UPDATE_ROLLBACK_IN_PROGRESS", Disposition::Wait),
        ] {
            assert_eq!(disposition("s", Some(status)), expected, "{status}");
        }
        for (status, fix) in [
            ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name s"),
            ("DELETE_FAILED", "gh-oidc teardown --stack-name s"),
            ("IMPORT_ROLLBACK_UNKNOWN", "check the stack in the console"),
        ] {
            match disposition("s", Some(status)) {
                Disposition::Refuse { fix: f, .. } => assert!(f.contains(fix), "{status}: {f}"),
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn change_set_readiness() {
        assert_eq!(readiness("CREATE_PENDING", "UNAVAILABLE", None), Readiness::Pending);
        assert_eq!(readiness("CREATE_IN_PROGRESS", "UNAVAILABLE", None), Readiness::Pending);
        assert_eq!(readiness("CREATE_COMPLETE", "UNAVAILABLE", None), Readiness::Pending);
        assert_eq!(readiness("CREATE_COMPLETE", "AVAILABLE", None), Readiness::Ready);
        assert_eq!(readiness("CREATE_COMPLETE", "OBSOLETE", None), Readiness::Obsolete);
        assert_eq!(
            readiness(
                "FAILED",
                "UNAVAILABLE",
                Some(
                    "The submitted information didn't contain changes. Submit different information to create a change set."
                )
            ),
            Readiness::NoChanges
        );
        assert_eq!(readiness("FAILED", "UNAVAILABLE", Some("No updates are to be performed.")), Readiness::NoChanges);
        assert_eq!(
            readiness("FAILED", "UNAVAILABLE", Some("Template format error")),
            Readiness::Failed("Template format error".into())
        );
    }

    #[test]
    fn settled_states() {
        for s in
            ["CREATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "REVIEW_IN_PROGRESS"]
        {
            assert_eq!(settled(s), Settled::Running, "{s}");
        }
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"] {
            assert_eq!(settled(s), Settled::Succeeded, "{s}");
        }
        for s in ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "DELETE_FAILED", "CREATE_FAILED", "ROLLBACK_FAILED"]
        {
            assert_eq!(settled(s), Settled::Failed, "{s}");
        }
    }

    #[test]
    fn the_root_cause_is_the_earliest_real_failure() {
        let newest_first = [
            event("stack", "ROLLBACK_COMPLETE", None),
            event("Provider", "CREATE_FAILED", Some("Resource creation cancelled")),
            event("Role", "CREATE_FAILED", Some("Role with name x already exists")),
            event("Role", "CREATE_IN_PROGRESS", None),
        ];
        assert_eq!(
            root_cause(&newest_first).as_deref(),
            Some("Role (AWS::IAM::Role) CREATE_FAILED: Role with name x already exists")
        );
        assert_eq!(root_cause(&newest_first[..2]), None);
    }
}

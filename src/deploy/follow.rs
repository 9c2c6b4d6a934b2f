//! Following a stack operation to its end, printing each new event once.

use crate::aws::Account;
use crate::aws::cloudformation::{self, ChangeSet, StackEvent};
use crate::deploy::poll::{self, Step};
use crate::deploy::states::{self, Readiness, Settled, settled};
use crate::error::Result;
use crate::report;
use crate::ui::Ui;

/// How an operation ended.
#[derive(Debug, Clone)]
pub struct Ending {
    pub status: String,
    pub outcome: Settled,
    /// Every event the operation produced, newest first.
    pub events: Vec<StackEvent>,
}

pub struct Follow<'a> {
    pub account: &'a Account,
    pub ui: &'a Ui,
    /// The stack id: it still answers once the stack is deleted, where the name does not.
    pub stack_id: &'a str,
    /// The newest event before the operation; only later events are its own.
    pub after: Option<String>,
    /// Whether the operation is known to have begun. Right after ExecuteChangeSet or
    /// DeleteStack the stack may still show its previous, settled status for a moment.
    pub started: bool,
}

impl Follow<'_> {
    pub async fn run(self) -> Result<Ending> {
        let cfn = &self.account.cloudformation;
        let spinner = self.ui.spinner("Waiting for CloudFormation");
        let mut after = self.after;
        let mut started = self.started;
        let mut history: Vec<StackEvent> = Vec::new();
        poll::until(async || {
            // Status first, then events: the events read last include the ones that settled it.
            let status = cloudformation::describe_stack(cfn, self.stack_id)
                .await?
                .map_or_else(|| "DELETE_COMPLETE".to_string(), |s| s.status);
            let mut new = cloudformation::events_since(cfn, self.stack_id, after.as_deref()).await?;
            let progressed = !new.is_empty();
            if let Some(newest) = new.first() {
                after = Some(newest.id.clone());
                started = true;
                for event in new.iter().rev() {
                    spinner.println(&report::event_line(self.ui, event));
                }
                new.append(&mut history);
                history = new;
            }
            let outcome = settled(&status);
            started |= outcome == Settled::Running;
            spinner.set_message(status.clone());
            Ok(if started && outcome != Settled::Running {
                Step::Done(Ending { status, outcome, events: std::mem::take(&mut history) })
            } else if progressed {
                Step::Progressed
            } else {
                Step::Wait
            })
        })
        .await
    }
}

/// What became of a change set once CloudFormation finished making it.
pub enum Made {
    Ready(ChangeSet),
    /// The template changes nothing.
    NoChanges,
    /// The stack changed meanwhile.
    Obsolete,
    Failed(String),
}

/// Waits until the change set `id` can be executed, or is known empty or failed.
pub async fn change_set(account: &Account, ui: &Ui, id: &str) -> Result<Made> {
    let _spinner = ui.spinner("Creating change set");
    poll::until(async || {
        let cs = cloudformation::describe_change_set(&account.cloudformation, id).await?;
        Ok(match states::readiness(&cs.status, &cs.execution_status, cs.status_reason.as_deref()) {
            Readiness::Pending => Step::Wait,
            Readiness::Ready => Step::Done(Made::Ready(cs)),
            Readiness::NoChanges => Step::Done(Made::NoChanges),
            Readiness::Obsolete => Step::Done(Made::Obsolete),
            Readiness::Failed(reason) => Step::Done(Made::Failed(reason)),
        })
    })
    .await
}

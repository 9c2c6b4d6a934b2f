//! `status`: a stack's status, outputs and latest events; `--follow` waits for it to settle.

use std::collections::BTreeMap;

use serde::Serialize;

use super::connect;
use crate::aws::cloudformation::{self, StackEvent};
use crate::aws::sts;
use crate::cli::StatusArgs;
use crate::deploy::follow::Follow;
use crate::deploy::states::{self, Settled};
use crate::error::{Error, Result};
use crate::report::{self, outputs_text};
use crate::spec::validate_stack_name;
use crate::ui::Ui;

/// How many recent events `status` shows.
const STATUS_EVENTS: usize = 10;

#[derive(Serialize)]
struct StatusReport {
    account: String,
    region: String,
    stack_name: String,
    stack_id: String,
    status: String,
    status_reason: Option<String>,
    termination_protection: bool,
    outputs: BTreeMap<String, String>,
    /// The latest events, oldest first.
    events: Vec<StackEvent>,
}

pub async fn status(args: StatusArgs, ui: &Ui) -> Result<()> {
    validate_stack_name(&args.stack_name)?;
    let account = connect(&args.aws).await?;
    let cfn = &account.cloudformation;
    let (identity, stack) =
        tokio::try_join!(sts::caller_identity(&account.sts), cloudformation::describe_stack(cfn, &args.stack_name))?;
    let shown_account = ui.account(&identity.account);
    let mut stack = stack.ok_or_else(|| {
        Error::aws(format!(
            "stack '{}' does not exist in account {shown_account} ({}); check --stack-name, --profile and --region",
            args.stack_name, account.region
        ))
    })?;
    let mut events = cloudformation::latest_events(cfn, &stack.id).await?;
    events.truncate(STATUS_EVENTS);
    events.reverse();
    ui.say(&format!("Stack {} in account {shown_account} ({})", stack.name, account.region));
    for event in &events {
        ui.say(&report::event_line(ui, event));
    }

    if args.follow && states::settled(&stack.status) == Settled::Running {
        let after = events.last().map(|e| e.id.clone());
        let ending = Follow { account: &account, ui, stack_id: &stack.id, after, started: true }.run().await?;
        events.extend(ending.events.into_iter().rev());
        let keep_from = events.len().saturating_sub(STATUS_EVENTS);
        events.drain(..keep_from);
        stack = cloudformation::describe_stack(cfn, &stack.id).await?.unwrap_or(stack);
        stack.status = ending.status;
    }

    let reason = stack.status_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
    ui.say(&format!("Status: {}{reason}", stack.status));
    if stack.termination_protection {
        ui.say("Termination protection: on");
    }
    let mut text = vec![format!("StackStatus = {}", stack.status)];
    text.extend(outputs_text(&stack.outputs));
    ui.result(
        &StatusReport {
            account: shown_account,
            region: account.region.clone(),
            stack_name: stack.name,
            stack_id: stack.id,
            status: stack.status.clone(),
            status_reason: stack.status_reason,
            termination_protection: stack.termination_protection,
            outputs: stack.outputs,
            events,
        },
        &text,
    );
    if args.follow && states::settled(&stack.status) == Settled::Failed {
        return Err(Error::aws(format!("stack '{}' ended {}", args.stack_name, stack.status)));
    }
    Ok(())
}

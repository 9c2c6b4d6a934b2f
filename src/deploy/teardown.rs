//! Teardown: show what goes, ask, delete the stack, follow the deletion by stack id.

use crate::aws::cloudformation::{self, Change};
use crate::aws::{Account, sts};
use crate::deploy::follow::Follow;
use crate::deploy::interrupted;
use crate::deploy::states::{self, Settled};
use crate::error::{Error, Result};
use crate::report::{self, Outcome, Report};
use crate::ui::Ui;

pub async fn teardown(account: &Account, ui: &Ui, stack_name: &str, yes: bool) -> Result<Report> {
    let mut deleting = false;
    tokio::select! {
        result = delete(account, ui, stack_name, yes, &mut deleting) => result,
        signal = interrupted() => Err(Error::interrupted(if deleting {
            format!("{signal}; the deletion goes on in AWS: follow it with `gh-oidc status --follow --stack-name {stack_name}`")
        } else {
            format!("{signal}; nothing was deleted")
        })),
    }
}

/// `deleting` turns true once DeleteStack has been sent.
async fn delete(account: &Account, ui: &Ui, stack_name: &str, yes: bool, deleting: &mut bool) -> Result<Report> {
    let cfn = &account.cloudformation;
    let (identity, stack) =
        tokio::try_join!(sts::caller_identity(&account.sts), cloudformation::describe_stack(cfn, stack_name))?;
    let mut report = Report {
        account: ui.account(&identity.account),
        region: account.region.clone(),
        stack_name: stack_name.to_string(),
        stack_id: None,
        result: Outcome::NotFound,
        changes: vec![],
        trust: vec![],
        outputs: Default::default(),
    };
    let Some(stack) = stack else {
        ui.say(&format!(
            "Stack {stack_name} does not exist in account {} ({}); nothing to delete.",
            report.account, account.region
        ));
        return Ok(report);
    };
    report.stack_id = Some(stack.id.clone());
    report.changes = cloudformation::resources(cfn, &stack.id)
        .await?
        .into_iter()
        .map(|r| Change {
            action: "Remove".into(),
            logical_id: r.logical_id,
            resource_type: r.resource_type,
            physical_id: r.physical_id,
            replacement: None,
            before: None,
            after: None,
        })
        .collect();
    ui.say(&format!(
        "Deleting stack {stack_name} ({}) in account {} ({})",
        stack.status, report.account, account.region
    ));
    ui.say(&report::change_table(ui, &report.changes));
    ui.say(&report::summary(&report.changes));
    ui.confirm(&format!("Delete stack {stack_name} and everything in it?"), yes, None).await?;

    let after = cloudformation::latest_events(cfn, &stack.id).await?.first().map(|e| e.id.clone());
    cloudformation::delete_stack(cfn, &stack.id).await?;
    *deleting = true;
    let ending = Follow { account, ui, stack_id: &stack.id, after, started: false }.run().await?;
    if ending.outcome == Settled::Failed {
        let cause = states::root_cause(&ending.events).unwrap_or_else(|| "no reason recorded".to_string());
        return Err(Error::aws(format!(
            "stack '{stack_name}' ended {}: {cause}; fix that resource and run teardown again",
            ending.status
        )));
    }
    ui.say(&format!("Stack {stack_name} is deleted."));
    report.result = Outcome::Deleted;
    Ok(report)
}

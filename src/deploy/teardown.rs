//! Teardown: show what goes, ask, delete each stack and follow the deletion by stack id.
//! Stacks with roles go before stacks holding a provider, and a provider that roles outside
//! its stack still trust is not deleted without `--force`.

use crate::aws::cloudformation::{self, ChangeSetKind, NewChangeSet, Resource, Stack};
use crate::aws::{Account, iam, sts};
use crate::deploy::follow::{self, Follow, Made};
use crate::deploy::interrupted;
use crate::deploy::states::{self, Settled};
use crate::error::{Error, Result};
use crate::policy;
use crate::report::{self, Outcome, Report};
use crate::ui::Ui;

const PROVIDER_TYPE: &str = "AWS::IAM::OIDCProvider";
const ROLE_TYPE: &str = "AWS::IAM::Role";

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub yes: bool,
    /// Delete a provider even though roles outside its stack trust it.
    pub force: bool,
    /// Delete the stack but keep the provider it holds.
    pub retain_provider: bool,
}

/// One stack to tear down, as found.
struct Target {
    name: String,
    stack: Option<Stack>,
    resources: Vec<Resource>,
}

impl Target {
    fn ids_of(&self, resource_type: &str) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.resource_type == resource_type)
            .filter_map(|r| r.physical_id.clone())
            .collect()
    }
}

pub async fn teardown(account: &Account, ui: &Ui, stack_names: &[String], options: Options) -> Result<Vec<Report>> {
    let mut deleting: Option<String> = None;
    tokio::select! {
        result = delete_all(account, ui, stack_names, options, &mut deleting) => result,
        signal = interrupted() => Err(Error::interrupted(match deleting {
            Some(stack) => format!(
                "{signal}; the deletion of {stack} goes on in AWS: follow it with `gh-oidc status --follow --stack-name {stack}`"
            ),
            None => format!("{signal}; nothing more was deleted"),
        })),
    }
}

/// `deleting` names the stack whose DeleteStack has been sent, while it is followed.
async fn delete_all(
    account: &Account,
    ui: &Ui,
    stack_names: &[String],
    options: Options,
    deleting: &mut Option<String>,
) -> Result<Vec<Report>> {
    let cfn = &account.cloudformation;
    let identity = sts::caller_identity(&account.sts).await?;
    let mut targets = Vec::with_capacity(stack_names.len());
    for name in stack_names {
        let stack = cloudformation::describe_stack(cfn, name).await?;
        let resources = match &stack {
            Some(s) => cloudformation::resources(cfn, &s.id).await?,
            None => vec![],
        };
        targets.push(Target { name: name.clone(), stack, resources });
    }
    // Roles first: a provider goes last, once nothing in this run still trusts it.
    targets.sort_by_key(|t| !t.ids_of(PROVIDER_TYPE).is_empty());

    let mut reports = Vec::with_capacity(targets.len());
    for target in targets {
        let mut report = Report {
            account: ui.account(&identity.account),
            region: account.region.clone(),
            stack_name: target.name.clone(),
            stack_id: None,
            result: Outcome::NotFound,
            changes: vec![],
            trust: vec![],
            outputs: Default::default(),
        };
        let Some(stack) = &target.stack else {
            ui.say(&format!(
                "Stack {} does not exist in account {} ({}); nothing to delete.",
                target.name, report.account, account.region
            ));
            reports.push(report);
            continue;
        };
        report.stack_id = Some(stack.id.clone());
        let providers = target.ids_of(PROVIDER_TYPE);
        let keep_providers = options.retain_provider && !providers.is_empty();
        if !providers.is_empty() && !options.retain_provider {
            check_nobody_else_trusts(account, ui, &target, &providers, options.force).await?;
        }
        report.changes = target
            .resources
            .iter()
            .map(|r| cloudformation::Change {
                action: if keep_providers && r.resource_type == PROVIDER_TYPE { "Retain" } else { "Remove" }.into(),
                logical_id: r.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                physical_id: r.physical_id.clone(),
                replacement: None,
                before: None,
                after: None,
            })
            .collect();
        ui.say(&format!(
            "Deleting stack {} ({}) in account {} ({})",
            target.name, stack.status, report.account, account.region
        ));
        ui.say(&report::change_table(ui, &report.changes));
        ui.say(&report::summary(&report.changes));
        ui.confirm(&format!("Delete stack {} and everything in it?", target.name), options.yes, None).await?;

        if keep_providers {
            retain_providers(account, ui, stack).await?;
            ui.say(&format!("Keeping the provider {}: the stack will let go of it.", providers.join(", ")));
        }
        if stack.termination_protection {
            cloudformation::set_termination_protection(cfn, &stack.id, false).await?;
            ui.say(&format!("Turned off the termination protection of {} to delete it.", target.name));
        }
        let after = cloudformation::latest_events(cfn, &stack.id).await?.first().map(|e| e.id.clone());
        // Set before the request leaves: once it has, the deletion may be under way.
        *deleting = Some(target.name.clone());
        cloudformation::delete_stack(cfn, &stack.id).await?;
        let ending = Follow { account, ui, stack_id: &stack.id, after, started: false }.run().await?;
        *deleting = None;
        let cause = states::root_cause(&ending.events);
        if ending.outcome == Settled::Failed {
            return Err(Error::aws(format!(
                "stack '{}' ended {}: {}; fix that resource and run teardown again",
                target.name,
                ending.status,
                cause.as_deref().unwrap_or("no reason recorded")
            )));
        }
        // A stack can report DELETE_COMPLETE although one of its resources failed to go (some
        // implementations do): that resource is still in the account, and the user must know.
        if let Some(cause) = cause {
            return Err(Error::aws(format!(
                "stack '{}' is deleted, but not all of it: {cause}; that resource is left in the account, delete it by hand",
                target.name
            )));
        }
        ui.say(&format!("Stack {} is deleted.", target.name));
        report.result = Outcome::Deleted;
        reports.push(report);
    }
    Ok(reports)
}

/// Every role in the account that trusts one of `providers`, other than the stack's own.
async fn check_nobody_else_trusts(
    account: &Account,
    ui: &Ui,
    target: &Target,
    providers: &[String],
    force: bool,
) -> Result<()> {
    let own_roles = target.ids_of(ROLE_TYPE);
    let mut trusting: Vec<String> = iam::roles(&account.iam)
        .await?
        .into_iter()
        .filter(|r| !own_roles.contains(&r.name) && providers.iter().any(|p| policy::trusts_provider(&r.trust, p)))
        .map(|r| r.name)
        .collect();
    if trusting.is_empty() {
        return Ok(());
    }
    trusting.sort();
    let roles = trusting.join(", ");
    if !force {
        return Err(Error::aws(format!(
            "{} role(s) outside stack {} still trust its provider: {roles}; tear them down first, keep the provider \
             with --retain-provider, or pass --force to delete it anyway",
            trusting.len(),
            target.name
        )));
    }
    ui.warn(&format!("--force: deleting the provider that {roles} still trust; their workflows will no longer get in"));
    Ok(())
}

/// Marks the stack's providers `DeletionPolicy: Retain` with a change set of its own, so that
/// deleting the stack leaves them in place. (DeleteStack's RetainResources only applies to
/// stacks whose deletion already failed.)
async fn retain_providers(account: &Account, ui: &Ui, stack: &Stack) -> Result<()> {
    let cfn = &account.cloudformation;
    let mut template = cloudformation::template(cfn, &stack.id).await?;
    for resource in template["Resources"].as_object_mut().into_iter().flat_map(|r| r.values_mut()) {
        if resource["Type"] == PROVIDER_TYPE {
            resource["DeletionPolicy"] = "Retain".into();
        }
    }
    let template = serde_json::to_string(&template).expect("a JSON value serialises");
    let (id, _) = cloudformation::create_change_set(
        cfn,
        NewChangeSet {
            stack_name: &stack.id,
            name: &cloudformation::change_set_name(),
            kind: ChangeSetKind::Update,
            template: &template,
            tags: &[],
        },
    )
    .await?;
    let made = follow::change_set(account, ui, &id).await;
    let ready = match made {
        Ok(Made::Ready(change_set)) => change_set,
        // Already marked: nothing to change.
        Ok(Made::NoChanges) => return delete_quietly(account, &id).await,
        Ok(Made::Failed(reason)) => {
            delete_quietly(account, &id).await?;
            return Err(Error::aws(format!("could not mark the provider to be kept: {reason}")));
        }
        Ok(Made::Obsolete) => {
            delete_quietly(account, &id).await?;
            return Err(Error::aws(
                "the stack changed while gh-oidc marked the provider to be kept; run teardown again",
            ));
        }
        Err(e) => {
            delete_quietly(account, &id).await?;
            return Err(e);
        }
    };
    let after = cloudformation::latest_events(cfn, &stack.id).await?.first().map(|e| e.id.clone());
    cloudformation::execute_change_set(cfn, &ready.id).await?;
    let ending = Follow { account, ui, stack_id: &stack.id, after, started: false }.run().await?;
    if ending.outcome == Settled::Failed {
        let cause = states::root_cause(&ending.events).unwrap_or_else(|| "no reason recorded".to_string());
        return Err(Error::aws(format!("could not mark the provider to be kept ({}): {cause}", ending.status)));
    }
    Ok(())
}

async fn delete_quietly(account: &Account, change_set: &str) -> Result<()> {
    Ok(cloudformation::delete_change_set(&account.cloudformation, change_set).await?)
}

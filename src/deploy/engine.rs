//! The deploy flow as a state machine: INSPECT → CREATE change set → WAIT until ready →
//! REVIEW (table, confirm) → EXECUTE → FOLLOW → DONE. Each phase is plain data; `step`
//! performs one phase and returns the next. Whatever stops the flow before EXECUTE (an
//! error, a "no", Ctrl-C) leaves nothing behind: `clean_up` deletes the change set, and the
//! empty stack a CREATE change set makes.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::aws::Account;
use crate::aws::cloudformation::{self, ChangeSet, ChangeSetKind, NewChangeSet, Stack};
use crate::aws::sts::{self, Identity};
use crate::deploy::follow::{self, Follow, Made};
use crate::deploy::poll::{self, Step};
use crate::deploy::states::{self, Disposition, Settled};
use crate::deploy::{interrupted, provider};
use crate::diff;
use crate::error::{Error, Kind, Result};
use crate::report::{self, Outcome, Report};
use crate::spec::{Role, Spec};
use crate::template::{self, ProviderPlan};
use crate::ui::Ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Show the change set, then delete it.
    Plan,
    /// Show, confirm (`yes` skips the question), execute and follow. `replace_failed` deletes
    /// a stack whose creation failed without asking.
    Apply { yes: bool, replace_failed: bool },
}

/// How many times the flow may look at the stack again (after waiting for another
/// operation, clearing a leftover, or an obsolete change set) before giving up.
const INSPECTIONS_MAX: u32 = 5;

enum Phase {
    Inspect,
    CreateChangeSet { template: String },
    AwaitChangeSet { id: String },
    Review { change_set: ChangeSet },
    Execute { change_set: ChangeSet },
    Follow { change_set: ChangeSet, after: Option<String> },
    Done(Report),
}

/// What must be deleted if the flow stops before EXECUTE.
#[derive(Debug, Default)]
struct Leftovers {
    /// The name of a change set being created: a stop while CreateChangeSet is in flight may
    /// still leave it, so clean-up looks it up by this name (unique to the run).
    requested: Option<String>,
    change_set: Option<String>,
    /// The stack a CREATE change set made: empty, in REVIEW_IN_PROGRESS.
    review_stack: Option<String>,
}

pub struct Deploy<'a> {
    account: &'a Account,
    ui: &'a Ui,
    spec: &'a Spec,
    mode: Mode,
    identity: Option<Identity>,
    kind: ChangeSetKind,
    stack_id: Option<String>,
    leftovers: Leftovers,
    executing: bool,
    /// The stack holds the account's provider (and so gets termination protection).
    holds_provider: bool,
    /// Refuse rather than follow another operation on the stack.
    no_wait: bool,
    inspections: u32,
    /// A plan found the stack already under review; its change set goes, the stack stays.
    review_preexisting: bool,
}

impl<'a> Deploy<'a> {
    pub fn new(account: &'a Account, ui: &'a Ui, spec: &'a Spec, mode: Mode, no_wait: bool) -> Self {
        Deploy {
            account,
            ui,
            spec,
            mode,
            identity: None,
            kind: ChangeSetKind::Create,
            stack_id: None,
            leftovers: Leftovers::default(),
            executing: false,
            holds_provider: false,
            no_wait,
            inspections: 0,
            review_preexisting: false,
        }
    }

    pub async fn run(mut self) -> Result<Report> {
        let result = tokio::select! {
            result = self.drive() => result,
            signal = interrupted() => Err(Error::interrupted(signal)),
        };
        match result {
            Ok(report) => Ok(report),
            Err(error) => {
                let error = self.explain_interruption(error);
                self.clean_up().await;
                Err(error)
            }
        }
    }

    async fn drive(&mut self) -> Result<Report> {
        let mut phase = Phase::Inspect;
        loop {
            phase = match phase {
                Phase::Done(report) => return Ok(report),
                phase => self.step(phase).await?,
            };
        }
    }

    async fn step(&mut self, phase: Phase) -> Result<Phase> {
        let cfn = &self.account.cloudformation;
        Ok(match phase {
            Phase::Inspect => {
                self.inspections += 1;
                if self.inspections > INSPECTIONS_MAX {
                    return Err(Error::aws(format!(
                        "stack '{}' kept changing while gh-oidc planned; run again when nothing else works on it",
                        self.spec.stack_name
                    )));
                }
                // Who we are is asked once, alongside the first look at the stack.
                let stack = match &self.identity {
                    Some(_) => cloudformation::describe_stack(cfn, &self.spec.stack_name).await?,
                    None => {
                        let (identity, stack) = tokio::try_join!(
                            sts::caller_identity(&self.account.sts),
                            cloudformation::describe_stack(cfn, &self.spec.stack_name),
                        )?;
                        self.ui.say(&format!(
                            "Planning stack {} in account {} ({})",
                            self.spec.stack_name,
                            self.ui.account(&identity.account),
                            self.account.region
                        ));
                        self.identity = Some(identity);
                        stack
                    }
                };
                self.stack_id = stack.as_ref().map(|s| s.id.clone());
                let status = stack.as_ref().map(|s| s.status.as_str());
                match (states::disposition(&self.spec.stack_name, status), stack) {
                    (Disposition::Plan(kind), stack) => {
                        self.kind = kind;
                        self.plan(stack.as_ref()).await?
                    }
                    (Disposition::ClearReview, Some(stack)) => self.clear_review(&stack).await?,
                    (Disposition::ReplaceFailed, Some(stack)) => self.replace_failed(&stack).await?,
                    (Disposition::Wait, Some(stack)) => self.wait_for(&stack).await?,
                    (Disposition::Refuse { why, fix }, Some(stack)) => {
                        let cause = self.cause(&stack).await?;
                        return Err(Error::aws(format!(
                            "stack '{}' is {}: {why}{cause}; {fix}",
                            stack.name, stack.status
                        )));
                    }
                    (_, None) => unreachable!("a missing stack is always planned as a CREATE"),
                }
            }
            Phase::CreateChangeSet { template } => {
                let name = cloudformation::change_set_name();
                self.leftovers.requested = Some(name.clone());
                let (id, stack_id) = cloudformation::create_change_set(
                    cfn,
                    NewChangeSet {
                        stack_name: &self.spec.stack_name,
                        name: &name,
                        kind: self.kind,
                        template: &template,
                        tags: &self.spec.tags,
                    },
                )
                .await?;
                self.record_change_set(id.clone(), stack_id.clone());
                self.stack_id = Some(stack_id);
                Phase::AwaitChangeSet { id }
            }
            Phase::AwaitChangeSet { id } => match follow::change_set(self.account, self.ui, &id).await? {
                Made::Ready(change_set) => Phase::Review { change_set },
                Made::NoChanges => {
                    self.clean_up().await;
                    self.ui.say("No changes: the stack already matches.");
                    let outputs = self.current_stack().await?.map(|s| s.outputs).unwrap_or_default();
                    Phase::Done(self.report(Outcome::NoChanges, None, outputs))
                }
                Made::Obsolete => {
                    // Something else changed the stack meanwhile: plan against what it is now.
                    self.clean_up().await;
                    self.ui.say("The stack changed while the change set was being made; planning again.");
                    Phase::Inspect
                }
                Made::Failed(reason) => {
                    return Err(Error::aws(format!("the change set could not be created: {reason}")));
                }
            },
            Phase::Review { change_set } => {
                self.ui.say(&report::change_table(self.ui, &change_set.changes));
                self.ui.say(&report::summary(&change_set.changes));
                let trust = diff::role_diffs(&change_set.changes);
                for line in diff::text(self.ui, &trust) {
                    self.ui.say(&line);
                }
                match self.mode {
                    Mode::Plan => {
                        self.clean_up().await;
                        self.ui.say("Plan only: the change set was deleted and the stack left as it was.");
                        if self.kind == ChangeSetKind::Create && !self.review_preexisting {
                            self.stack_id = None;
                        }
                        Phase::Done(self.report(Outcome::Planned, Some(change_set), Default::default()))
                    }
                    Mode::Apply { yes, .. } => {
                        self.ui.say(&format!(
                            "Change set: {}",
                            report::console_link(&self.account.region, &change_set.stack_id, &change_set.id)
                        ));
                        let broadened = trust.iter().find(|d| d.broadens_access).and_then(|d| d.role_name.as_deref());
                        let question = match broadened {
                            Some(role) => format!("This change lets more workflows assume {role}."),
                            None => format!("Execute this change set on {}?", self.spec.stack_name),
                        };
                        self.ui.confirm(&question, yes, broadened).await?;
                        Phase::Execute { change_set }
                    }
                }
            }
            Phase::Execute { change_set } => {
                let after =
                    cloudformation::latest_events(cfn, &change_set.stack_id).await?.first().map(|e| e.id.clone());
                // From the moment the request leaves, the stack may be changing: a stop now must
                // not delete anything. Only a refused request leaves the change set ours again.
                let leftovers = std::mem::take(&mut self.leftovers);
                self.executing = true;
                if let Err(f) = cloudformation::execute_change_set(cfn, &change_set.id).await {
                    self.executing = false;
                    self.leftovers = leftovers;
                    return Err(match f.code.as_deref() {
                        Some(
                            code @ ("ChangeSetNotFound" | "ChangeSetNotFoundException" | "InvalidChangeSetStatus"),
                        ) => Error::aws(format!(
                            "the change set can no longer be executed ({code}): the stack changed while it was \
                                 reviewed, perhaps by another run; run again to plan afresh"
                        )),
                        _ => f.into(),
                    });
                }
                Phase::Follow { change_set, after }
            }
            Phase::Follow { change_set, after } => {
                let ending = Follow {
                    account: self.account,
                    ui: self.ui,
                    stack_id: &change_set.stack_id,
                    after,
                    started: false,
                }
                .run()
                .await?;
                self.executing = false;
                if ending.outcome == Settled::Failed {
                    let cause = states::root_cause(&ending.events).unwrap_or_else(|| "no reason recorded".to_string());
                    let mut message = format!("stack '{}' ended {}: {cause}", self.spec.stack_name, ending.status);
                    if self.kind == ChangeSetKind::Create && ending.status == "ROLLBACK_COMPLETE" {
                        message.push_str(&self.delete_failed_stack(&change_set.stack_id).await);
                    }
                    return Err(Error::aws(message));
                }
                let outcome = match self.kind {
                    ChangeSetKind::Create => Outcome::Created,
                    ChangeSetKind::Update => Outcome::Updated,
                };
                self.ui.say(&format!("Stack {} is {}.", self.spec.stack_name, ending.status));
                let stack = self.current_stack().await?;
                if self.holds_provider && stack.as_ref().is_some_and(|s| !s.termination_protection) {
                    // The provider is trust shared by every role in the account: deleting its
                    // stack by accident would lock out every workflow at once.
                    cloudformation::set_termination_protection(cfn, &change_set.stack_id, true).await?;
                    self.ui.say(&format!(
                        "Termination protection is on for {}: it holds the account's provider.",
                        self.spec.stack_name
                    ));
                }
                Phase::Done(self.report(outcome, Some(change_set), stack.map(|s| s.outputs).unwrap_or_default()))
            }
            Phase::Done(..) => unreachable!("drive returns on Done"),
        })
    }

    /// The template for the stack as the account stands: CREATE_CHANGE_SET, or DONE when there
    /// is nothing to deploy.
    async fn plan(&mut self, stack: Option<&Stack>) -> Result<Phase> {
        let provider = provider::plan(self.account, self.spec, stack).await?;
        self.holds_provider = provider == ProviderPlan::Create;
        self.ui.say(&describe_provider(&provider, self.spec.issuer.url()));
        if let Some(role) = &self.spec.role {
            self.ui.say(&describe_role(role, &self.spec.audience));
        }
        Ok(match template::render(self.spec, &provider) {
            Some(template) => Phase::CreateChangeSet { template: template::to_json(&template) },
            None => {
                self.ui.say("Nothing to deploy: add --repo-pattern to make a role that trusts this provider.");
                Phase::Done(self.report(Outcome::NothingToDeploy, None, Default::default()))
            }
        })
    }

    /// REVIEW_IN_PROGRESS: a stack that was never executed holds nothing. One left by an
    /// interrupted gh-oidc run is deleted; one with change sets from elsewhere may be under
    /// someone's review and is left alone. A plan adds its own change set beside it.
    async fn clear_review(&mut self, stack: &Stack) -> Result<Phase> {
        if self.mode == Mode::Plan {
            self.kind = ChangeSetKind::Create;
            self.review_preexisting = true;
            return self.plan(None).await;
        }
        let foreign: Vec<String> = cloudformation::change_sets(&self.account.cloudformation, &stack.id)
            .await?
            .into_iter()
            .filter(|cs| cs.description.as_deref() != Some(cloudformation::CHANGE_SET_DESCRIPTION))
            .map(|cs| cs.name)
            .collect();
        if !foreign.is_empty() {
            return Err(Error::aws(format!(
                "stack '{}' is REVIEW_IN_PROGRESS with change set(s) gh-oidc did not make ({}): someone may be \
                 reviewing it; if it is abandoned, delete it with `gh-oidc teardown --stack-name {}`",
                stack.name,
                foreign.join(", "),
                stack.name
            )));
        }
        self.ui
            .say(&format!("Stack {} was left empty, under review, by an earlier run: deleting it first.", stack.name));
        self.delete_and_wait(&stack.id).await?;
        Ok(Phase::Inspect)
    }

    /// ROLLBACK_COMPLETE and the like: the creation failed, the stack holds nothing, and
    /// CloudFormation only allows deleting it. Say why it failed; replace it when allowed.
    async fn replace_failed(&mut self, stack: &Stack) -> Result<Phase> {
        let cause = self.cause(stack).await?;
        let what =
            format!("stack '{}' is {}: its creation failed{cause} and it holds nothing", stack.name, stack.status);
        match self.mode {
            Mode::Plan => {
                return Err(Error::aws(format!(
                    "{what}; `gh-oidc setup --replace-failed` deletes it and creates it again"
                )));
            }
            Mode::Apply { replace_failed: true, .. } => {
                self.ui.say(&format!("{what}: replacing it (--replace-failed)."))
            }
            Mode::Apply { yes: false, .. } if std::io::stdin().is_terminal() => {
                self.ui.say(&format!("{what}."));
                self.ui.confirm("Delete it and create it again?", false, None).await?;
            }
            Mode::Apply { .. } => {
                return Err(Error::aws(format!(
                    "{what}; pass --replace-failed to delete it and create it again, or delete it with \
                     `gh-oidc teardown --stack-name {}`",
                    stack.name
                )));
            }
        }
        self.delete_and_wait(&stack.id).await?;
        Ok(Phase::Inspect)
    }

    /// Another operation (a run elsewhere, the console) is at work: follow it to its end and
    /// look again, or refuse with `--no-wait`.
    async fn wait_for(&mut self, stack: &Stack) -> Result<Phase> {
        if self.no_wait {
            return Err(Error::aws(format!(
                "stack '{}' is {}: another operation is running; wait for it (`gh-oidc status --follow --stack-name {}`), \
                 or run without --no-wait",
                stack.name, stack.status, stack.name
            )));
        }
        self.ui.say(&format!("Stack {} is {}: following that operation to its end first.", stack.name, stack.status));
        let after =
            cloudformation::latest_events(&self.account.cloudformation, &stack.id).await?.first().map(|e| e.id.clone());
        Follow { account: self.account, ui: self.ui, stack_id: &stack.id, after, started: true }.run().await?;
        Ok(Phase::Inspect)
    }

    /// `" (cause: ...)"` from the stack's latest events, or nothing.
    async fn cause(&self, stack: &Stack) -> Result<String> {
        let events = cloudformation::latest_events(&self.account.cloudformation, &stack.id).await?;
        Ok(states::root_cause(&events).map(|c| format!(" ({c})")).unwrap_or_default())
    }

    fn report(&self, result: Outcome, change_set: Option<ChangeSet>, outputs: BTreeMap<String, String>) -> Report {
        Report {
            account: self.ui.account(self.identity.as_ref().map_or("", |i| i.account.as_str())),
            region: self.account.region.clone(),
            stack_name: self.spec.stack_name.clone(),
            stack_id: self.stack_id.clone(),
            result,
            trust: change_set.as_ref().map(|cs| diff::role_diffs(&cs.changes)).unwrap_or_default(),
            changes: change_set.map(|cs| cs.changes).unwrap_or_default(),
            outputs,
        }
    }

    async fn current_stack(&self) -> Result<Option<Stack>> {
        let stack_id = self.stack_id.as_deref().unwrap_or(&self.spec.stack_name);
        Ok(cloudformation::describe_stack(&self.account.cloudformation, stack_id).await?)
    }

    /// A stack whose creation rolled back holds nothing and can only be deleted; delete it
    /// now so the next run starts clean. Returns what to add to the error message.
    async fn delete_failed_stack(&self, stack_id: &str) -> String {
        match self.delete_and_wait(stack_id).await {
            Ok(()) => " (the empty stack was deleted: fix the cause and run again)".to_string(),
            Err(e) => format!(
                " (deleting the empty stack failed too: {e}; run `gh-oidc teardown --stack-name {}`)",
                self.spec.stack_name
            ),
        }
    }

    async fn delete_and_wait(&self, stack_id: &str) -> Result<()> {
        let cfn = &self.account.cloudformation;
        cloudformation::delete_stack(cfn, stack_id).await?;
        poll::until(async || {
            Ok(match cloudformation::describe_stack(cfn, stack_id).await? {
                Some(stack) if stack.status != "DELETE_COMPLETE" => Step::Wait,
                _ => Step::Done(()),
            })
        })
        .await
    }

    /// Deletes what a stopped flow left: the empty stack under review (which takes its change
    /// set with it), or else the change set. Failures are reported, not raised: the error that
    /// stopped the flow is the one to show.
    async fn clean_up(&mut self) {
        if let Some(name) = self.leftovers.requested.take()
            && self.leftovers.change_set.is_none()
        {
            match cloudformation::find_change_set(&self.account.cloudformation, &self.spec.stack_name, &name).await {
                Ok(Some((id, stack_id))) => self.record_change_set(id, stack_id),
                Ok(None) => {}
                Err(e) => self.ui.warn(&format!(
                    "could not check for change set {name} on stack {}: {e}; look for it in the console",
                    self.spec.stack_name
                )),
            }
        }
        let leftovers = std::mem::take(&mut self.leftovers);
        if let Some(stack_id) = leftovers.review_stack {
            if let Err(e) = self.delete_and_wait(&stack_id).await {
                self.ui.warn(&format!(
                    "could not delete the empty stack {stack_id}: {e}; delete it with `gh-oidc teardown --stack-name {}`",
                    self.spec.stack_name
                ));
            }
        } else if let Some(id) = leftovers.change_set
            && let Err(e) = cloudformation::delete_change_set(&self.account.cloudformation, &id).await
        {
            self.ui.warn(&format!(
                "could not delete change set {id}: {e}; delete it with `aws cloudformation delete-change-set --change-set-name {id}`"
            ));
        }
    }

    /// The change set now exists: it, and the stack a CREATE made for it, are ours to delete
    /// if the flow stops before executing it.
    fn record_change_set(&mut self, id: String, stack_id: String) {
        self.leftovers.requested = None;
        self.leftovers.change_set = Some(id);
        if self.kind == ChangeSetKind::Create && !self.review_preexisting {
            self.leftovers.review_stack = Some(stack_id);
        }
    }

    /// Once the change set is executing, CloudFormation carries on without us; say so.
    fn explain_interruption(&self, error: Error) -> Error {
        if error.kind != Kind::Interrupted {
            return error;
        }
        if self.executing {
            Error::interrupted(format!(
                "{}; the stack operation goes on in AWS: follow it with `gh-oidc status --follow --stack-name {}`",
                error.message, self.spec.stack_name
            ))
        } else {
            Error::interrupted(format!("{}; nothing was changed", error.message))
        }
    }
}

fn describe_provider(provider: &ProviderPlan, issuer_url: &str) -> String {
    match provider {
        ProviderPlan::Create => format!("Provider: {issuer_url}, held by this stack"),
        ProviderPlan::Existing(arn) => format!("Provider: trusting the existing {arn}"),
    }
}

fn describe_role(role: &Role, audience: &str) -> String {
    let subjects: Vec<&str> = role.subjects.iter().map(|s| s.pattern.as_str()).collect();
    format!("Role: {}, for audience {audience} and subjects {}", role.name, subjects.join(", "))
}

//! One function per subcommand: validate the spec, connect, hand over to the engine, report.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::{self, Finding};
use crate::aws::cloudformation::{self, StackEvent};
use crate::aws::{self, iam, sts};
use crate::cli::{
    AuditArgs, AwsArgs, Cli, Command, ExplainArgs, PlanArgs, RenderArgs, SetupArgs, SharedArgs, SpecArgs, StatusArgs,
    TeardownArgs,
};
use crate::deploy::engine::{Deploy, Mode};
use crate::deploy::follow::Follow;
use crate::deploy::states::{self, Settled};
use crate::deploy::teardown::{Options, teardown};
use crate::error::{Error, Result};
use crate::explain;
use crate::issuer::{Issuer, Partition};
use crate::report::{self, outputs_text};
use crate::spec::{ProviderChoice, Spec, validate_role_name, validate_stack_name};
use crate::template::{self, ProviderPlan};
use crate::ui::Ui;

/// How many recent events `status` shows.
const STATUS_EVENTS: usize = 10;

pub async fn run(cli: Cli, ui: &Ui) -> Result<()> {
    match cli.command {
        Command::Setup(SetupArgs { aws, spec, yes, no_wait, replace_failed }) => {
            deploy(&aws, &spec, ui, Mode::Apply { yes, replace_failed }, no_wait).await
        }
        Command::Plan(PlanArgs { aws, spec, no_wait }) => deploy(&aws, &spec, ui, Mode::Plan, no_wait).await,
        Command::Render(args) => render(&args, ui),
        Command::Status(args) => status(args, ui).await,
        Command::Teardown(TeardownArgs { aws, stack_names, yes, force, retain_provider }) => {
            for name in &stack_names {
                validate_stack_name(name)?;
            }
            let account = connect(&aws).await?;
            let reports = teardown(&account, ui, &stack_names, Options { yes, force, retain_provider }).await?;
            ui.result(&reports, &[]);
            Ok(())
        }
        Command::Whoami(aws) => whoami(&aws, ui).await,
        Command::Explain(args) => explain(args, ui).await,
        Command::Audit(args) => audit(&args, ui).await,
    }
}

/// The AWS flags also decide how results print; every AWS command builds its `Ui` from them.
pub fn shared_args(cli: &Cli) -> Option<&SharedArgs> {
    match &cli.command {
        Command::Setup(a) => Some(&a.aws.shared),
        Command::Plan(a) => Some(&a.aws.shared),
        Command::Status(a) => Some(&a.aws.shared),
        Command::Teardown(a) => Some(&a.aws.shared),
        Command::Whoami(a) => Some(&a.shared),
        Command::Explain(a) => Some(&a.aws.shared),
        Command::Audit(a) => Some(&a.shared),
        Command::Render(_) => None,
    }
}

/// Locates, then connects: every local check before the first request.
async fn connect(args: &AwsArgs) -> Result<aws::Account> {
    let target = aws::locate(args).await?;
    aws::connect(args, target).await
}

async fn deploy(aws: &AwsArgs, args: &SpecArgs, ui: &Ui, mode: Mode, no_wait: bool) -> Result<()> {
    let target = aws::locate(aws).await?;
    let spec = validated(args, target.partition(), ui)?;
    let account = aws::connect(aws, target).await?;
    let report = Deploy::new(&account, ui, &spec, mode, no_wait).run().await?;
    ui.result(&report, &report.text());
    Ok(())
}

/// The spec, with its warnings shown.
fn validated(args: &SpecArgs, partition: Partition, ui: &Ui) -> Result<Spec> {
    let spec = Spec::from_args(args, partition)?;
    for warning in &spec.warnings {
        ui.warn(warning);
    }
    Ok(spec)
}

fn render(args: &RenderArgs, ui: &Ui) -> Result<()> {
    let partition = args.region.as_deref().map(Partition::of_region).unwrap_or_default();
    let spec = validated(&args.spec, partition, ui)?;
    // Without looking at the account, the provider is created unless one is named.
    let provider = match &spec.provider {
        ProviderChoice::Given(arn) => ProviderPlan::Existing(arn.clone()),
        ProviderChoice::Discover => ProviderPlan::Create,
    };
    let template = template::render(&spec, &provider).expect("a spec naming a provider always has a role");
    println!("{}", template::to_json(&template));
    Ok(())
}

#[derive(Serialize)]
struct StatusReport {
    account: String,
    region: String,
    stack_name: String,
    stack_id: String,
    status: String,
    status_reason: Option<String>,
    outputs: BTreeMap<String, String>,
    /// The latest events, oldest first.
    events: Vec<StackEvent>,
}

async fn status(args: StatusArgs, ui: &Ui) -> Result<()> {
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

#[derive(Serialize)]
struct Whoami {
    account: String,
    arn: String,
    region: String,
}

async fn whoami(args: &AwsArgs, ui: &Ui) -> Result<()> {
    let account = connect(args).await?;
    let identity = sts::caller_identity(&account.sts).await?;
    let shown = ui.account(&identity.account);
    // The ARN carries the account id too; mask it there the same way.
    let arn = identity.arn.replace(&identity.account, &shown);
    ui.result(
        &Whoami { account: shown.clone(), arn: arn.clone(), region: account.region.clone() },
        &[format!("Account = {shown}"), format!("Arn = {arn}"), format!("Region = {}", account.region)],
    );
    Ok(())
}

async fn explain(args: ExplainArgs, ui: &Ui) -> Result<()> {
    let issuer = args.issuer_url.as_deref().map(Issuer::parse).transpose()?.unwrap_or_default();
    let mut pairs = vec![("sub".to_string(), args.sub.clone()), ("aud".to_string(), args.aud.clone())];
    for claim in &args.claims {
        let (key, value) = claim.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| {
            Error::input(format!("--claim '{claim}': expected KEY=VALUE, e.g. --claim repository_id=123456"))
        })?;
        pairs.push((key.to_string(), value.to_string()));
    }
    let (role, document) = match (&args.policy, &args.role_name) {
        (Some(path), role) => {
            let shown = path.display();
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(format!("--policy '{shown}': cannot read it ({e})")))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::input(format!("--policy '{shown}': not valid JSON ({e})")))?;
            explain::policy_from_file(&json, role.as_deref())
                .map_err(|why| Error::input(format!("--policy '{shown}': {why}")))?
        }
        (None, Some(name)) => {
            validate_role_name(name)?;
            let account = connect(&args.aws).await?;
            let document = iam::trust_policy(&account.iam, name).await?.ok_or_else(|| {
                Error::aws(format!(
                    "role '{name}' does not exist in this account ({}); check --role-name and --profile",
                    account.region
                ))
            })?;
            (name.clone(), document)
        }
        (None, None) => {
            return Err(Error::input("--role-name: say which role's trust policy to check (or --policy FILE)"));
        }
    };
    let explanation = explain::explain(&role, &document, &issuer, &explain::claims(&issuer, &pairs));
    ui.result(&explanation, &explanation.text());
    if explanation.allowed { Ok(()) } else { Err(Error::findings(format!("{role} would refuse this token"))) }
}

#[derive(Serialize)]
struct AccountAudit {
    account: String,
    region: String,
    profile: Option<String>,
    github_roles: usize,
    findings: Vec<Finding>,
}

/// Each profile's account in turn: its GitHub roles, reviewed.
async fn audit(args: &AuditArgs, ui: &Ui) -> Result<()> {
    let profiles: Vec<Option<String>> =
        if args.profiles.is_empty() { vec![None] } else { args.profiles.iter().cloned().map(Some).collect() };
    let mut accounts = Vec::new();
    for profile in profiles {
        let account = connect(&AwsArgs { profile: profile.clone(), shared: args.shared.clone() }).await?;
        let (identity, roles) = tokio::try_join!(sts::caller_identity(&account.sts), iam::roles(&account.iam))?;
        let github: Vec<_> = roles.into_iter().filter(|r| audit::is_github_role(&r.trust)).collect();
        let mut findings = Vec::new();
        for role in &github {
            let attached = iam::attached_policies(&account.iam, &role.name).await?;
            findings.extend(audit::review(role, &attached));
        }
        findings.sort_by(|a, b| (a.severity, &a.role).cmp(&(b.severity, &b.role)));
        ui.say(&format!(
            "Account {} ({}): {} GitHub role(s), {} finding(s)",
            ui.account(&identity.account),
            account.region,
            github.len(),
            findings.len()
        ));
        accounts.push(AccountAudit {
            account: ui.account(&identity.account),
            region: account.region,
            profile,
            github_roles: github.len(),
            findings,
        });
    }
    let total: usize = accounts.iter().map(|a| a.findings.len()).sum();
    let rows: Vec<[String; 5]> = accounts
        .iter()
        .flat_map(|a| {
            a.findings.iter().map(|f| {
                [f.severity.label().to_string(), a.account.clone(), f.role.clone(), f.finding.clone(), f.fix.clone()]
            })
        })
        .collect();
    let text = if rows.is_empty() { vec![] } else { vec![report::findings_table(ui, &rows)] };
    ui.result(&accounts, &text);
    if total == 0 {
        Ok(())
    } else {
        Err(Error::findings(format!("{total} finding(s) in the roles GitHub tokens can assume")))
    }
}

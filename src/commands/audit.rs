//! `audit`: every profile's account at once, its GitHub roles reviewed by `crate::audit`.

use serde::Serialize;

use super::connect;
use crate::audit::{self, Finding};
use crate::aws::{iam, sts};
use crate::cli::{AuditArgs, AwsArgs};
use crate::error::{Error, Result};
use crate::report;
use crate::ui::Ui;

/// One account's GitHub roles, reviewed.
async fn audit_account(aws: AwsArgs, ui: &Ui) -> Result<AccountAudit> {
    let account = connect(&aws).await?;
    let (identity, roles) = tokio::try_join!(sts::caller_identity(&account.sts), iam::roles(&account.iam))?;
    let github: Vec<_> = roles.into_iter().filter(|r| audit::is_github_role(&r.trust)).collect();
    let mut findings = Vec::new();
    for role in &github {
        let (attached, inline) = tokio::try_join!(
            iam::attached_policies(&account.iam, &role.name),
            iam::inline_policies(&account.iam, &role.name)
        )?;
        findings.extend(audit::review(role, &attached, &inline));
    }
    findings.sort_by(|a, b| (a.severity, &a.role).cmp(&(b.severity, &b.role)));
    let shown = ui.account(&identity.account);
    ui.say(&format!(
        "Account {shown} ({}): {} GitHub role(s), {} finding(s)",
        account.region,
        github.len(),
        findings.len()
    ));
    Ok(AccountAudit {
        account: shown,
        region: account.region,
        profile: aws.profile,
        github_roles: github.len(),
        findings,
    })
}

#[derive(Serialize)]
struct AccountAudit {
    account: String,
    region: String,
    profile: Option<String>,
    github_roles: usize,
    findings: Vec<Finding>,
}

/// Every profile's account at once, each with its own clients; results in the order given.
pub async fn audit(args: &AuditArgs, ui: &Ui) -> Result<()> {
    let profiles: Vec<Option<String>> =
        if args.profiles.is_empty() { vec![None] } else { args.profiles.iter().cloned().map(Some).collect() };
    let mut tasks = tokio::task::JoinSet::new();
    for (index, profile) in profiles.into_iter().enumerate() {
        let (aws, ui) = (AwsArgs { profile, shared: args.shared.clone() }, ui.clone());
        tasks.spawn(async move { (index, audit_account(aws, &ui).await) });
    }
    let mut accounts = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.expect("an audit task does not panic");
        accounts.push((index, result?));
    }
    accounts.sort_by_key(|(index, _)| *index);
    let accounts: Vec<AccountAudit> = accounts.into_iter().map(|(_, a)| a).collect();
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

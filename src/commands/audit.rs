//! `audit`: each profile's account in turn, its GitHub roles reviewed by `crate::audit`.

use serde::Serialize;

use super::connect;
use crate::audit::{self, Finding};
use crate::aws::{iam, sts};
use crate::cli::{AuditArgs, AwsArgs};
use crate::error::{Error, Result};
use crate::report;
use crate::ui::Ui;

#[derive(Serialize)]
struct AccountAudit {
    account: String,
    region: String,
    profile: Option<String>,
    github_roles: usize,
    findings: Vec<Finding>,
}

/// Each profile's account in turn: its GitHub roles, reviewed.
pub async fn audit(args: &AuditArgs, ui: &Ui) -> Result<()> {
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

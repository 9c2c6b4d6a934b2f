//! `whoami`: the account, identity and region the AWS flags resolve to.

use serde::Serialize;

use super::connect;
use crate::aws::sts;
use crate::cli::AwsArgs;
use crate::error::Result;
use crate::ui::Ui;

#[derive(Serialize)]
struct Whoami {
    account: String,
    arn: String,
    region: String,
}

pub async fn whoami(args: &AwsArgs, ui: &Ui) -> Result<()> {
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

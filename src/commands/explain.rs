//! `explain`: reads the trust policy (from IAM or a file) and asks `crate::explain` for the verdict.

use super::connect;
use crate::aws::iam;
use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::spec::{read_json, validate_role_name};
use crate::ui::Ui;

pub async fn explain(args: ExplainArgs, ui: &Ui) -> Result<()> {
    let issuer = args.issuer_url.as_deref().map(Issuer::parse).transpose()?.unwrap_or_default();
    let mut pairs = vec![("sub".to_string(), args.sub.clone()), ("aud".to_string(), args.aud.clone())];
    for claim in &args.claims {
        let (key, value) = claim.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| {
            Error::input(format!("--claim '{claim}': expected KEY=VALUE, e.g. --claim repository_id=123456"))
        })?;
        pairs.push((key.to_string(), value.to_string()));
    }
    let (role, document) = match (&args.policy, &args.role_name) {
        (Some(path), role) => crate::explain::policy_from_file(&read_json("--policy", path)?, role.as_deref())
            .map_err(|why| Error::input(format!("--policy '{}': {why}", path.display())))?,
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
    let explanation = crate::explain::explain(&role, &document, &issuer, &crate::explain::claims(&issuer, &pairs));
    ui.result(&explanation, &explanation.text());
    if explanation.allowed { Ok(()) } else { Err(Error::findings(format!("{role} would refuse this token"))) }
}

//! Which provider a stack's role trusts: the one the user named, the account's existing
//! one, or a new one in the stack. Never a second provider for the same URL, which IAM
//! refuses with EntityAlreadyExists and which would roll the whole stack back.

use crate::aws::cloudformation::{self, Stack};
use crate::aws::{Account, iam};
use crate::error::{Error, Result};
use crate::spec::{ProviderChoice, Spec};
use crate::template::ProviderPlan;

const PROVIDER_TYPE: &str = "AWS::IAM::OIDCProvider";

pub async fn plan(account: &Account, spec: &Spec, stack: Option<&Stack>) -> Result<ProviderPlan> {
    let arn = match &spec.provider {
        ProviderChoice::Given(arn) => arn.clone(),
        ProviderChoice::Discover => {
            let Some(arn) = iam::find_provider(&account.iam, spec.issuer.url()).await? else {
                return Ok(ProviderPlan::Create);
            };
            if let Some(stack) = stack {
                let resources = cloudformation::resources(&account.cloudformation, &stack.id).await?;
                if resources.iter().any(|r| r.resource_type == PROVIDER_TYPE && r.physical_id.as_ref() == Some(&arn)) {
                    return Ok(ProviderPlan::Create);
                }
            }
            arn
        }
    };
    let provider = iam::get_provider(&account.iam, &arn).await?.ok_or_else(|| {
        Error::aws(format!(
            "--provider-arn '{arn}': no such provider in this account; check the ARN, or leave the flag out to find or create the account's provider"
        ))
    })?;
    check_audience(&provider.arn, &provider.client_ids, &spec.audience)?;
    Ok(ProviderPlan::Existing(arn))
}

/// A role that checks an audience the provider does not accept can never be assumed
/// (GitHub's token is refused with "Incorrect token audience").
fn check_audience(arn: &str, client_ids: &[String], audience: &str) -> Result<()> {
    if client_ids.iter().any(|id| id == audience) {
        return Ok(());
    }
    Err(Error::aws(format!(
        "the provider {arn} does not accept the audience '{audience}' (its client ids: {}); add it with \
         `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {audience}` \
         or pass --audience with one it accepts",
        if client_ids.is_empty() { "none".to_string() } else { client_ids.join(", ") }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audience_the_provider_lacks_is_an_error_naming_the_fix() {
        let ids = vec!["sigstore".to_string()];
        assert!(check_audience("arn", &["sts.amazonaws.com".into()], "sts.amazonaws.com").is_ok());
        let err = check_audience("arn:p", &ids, "sts.amazonaws.com").unwrap_err();
        assert!(err.message.contains("does not accept the audience 'sts.amazonaws.com' (its client ids: sigstore)"));
        assert!(err.message.contains("add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn arn:p"));
    }
}

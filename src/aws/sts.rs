//! STS: who the credentials belong to.

use aws_sdk_sts::Client;
use serde::Serialize;

use super::Failure;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

pub async fn caller_identity(client: &Client) -> Result<Identity, Failure> {
    let response = client.get_caller_identity().send().await.map_err(|e| Failure::from_sdk("GetCallerIdentity", e))?;
    Ok(Identity {
        account: response.account().unwrap_or_default().to_string(),
        arn: response.arn().unwrap_or_default().to_string(),
    })
}

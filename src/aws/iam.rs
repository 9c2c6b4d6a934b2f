//! IAM calls: finding the account's OIDC providers.

use aws_sdk_iam::Client;

use super::Failure;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    pub arn: String,
    pub client_ids: Vec<String>,
}

/// The ARN of the account's provider for `issuer_url`, if it has one. IAM allows one
/// provider per URL, and the ARN ends with the URL without its scheme.
pub async fn find_provider(client: &Client, issuer_url: &str) -> Result<Option<String>, Failure> {
    let response = client
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| Failure::from_sdk("ListOpenIDConnectProviders", e))?;
    Ok(response
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| provider_url_of(arn).is_some_and(|url| url == issuer_url))
        .map(str::to_string))
}

pub async fn get_provider(client: &Client, arn: &str) -> Result<Option<OidcProvider>, Failure> {
    match client.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await {
        Ok(p) => Ok(Some(OidcProvider { arn: arn.to_string(), client_ids: p.client_id_list().to_vec() })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(None),
        Err(e) => Err(Failure::from_sdk("GetOpenIDConnectProvider", e)),
    }
}

/// A role and the trust policy it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleTrust {
    pub name: String,
    pub arn: String,
    pub trust: serde_json::Value,
}

/// Every role in the account, with its trust policy (ListRoles returns both).
pub async fn roles(client: &Client) -> Result<Vec<RoleTrust>, Failure> {
    let mut pages = client.list_roles().into_paginator().send();
    let mut roles = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("ListRoles", e))?;
        roles.extend(page.roles().iter().map(|r| RoleTrust {
            name: r.role_name().to_string(),
            arn: r.arn().to_string(),
            trust: parse_policy_document(r.assume_role_policy_document().unwrap_or_default()),
        }));
    }
    Ok(roles)
}

/// The ARNs of the managed policies attached to a role.
pub async fn attached_policies(client: &Client, role_name: &str) -> Result<Vec<String>, Failure> {
    let mut pages = client.list_attached_role_policies().role_name(role_name).into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("ListAttachedRolePolicies", e))?;
        arns.extend(page.attached_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string));
    }
    Ok(arns)
}

/// The role's inline policies, by name.
pub async fn inline_policies(client: &Client, role_name: &str) -> Result<Vec<(String, serde_json::Value)>, Failure> {
    let mut pages = client.list_role_policies().role_name(role_name).into_paginator().send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        names.extend(page.map_err(|e| Failure::from_sdk("ListRolePolicies", e))?.policy_names().to_vec());
    }
    let mut policies = Vec::with_capacity(names.len());
    for name in names {
        let got = client
            .get_role_policy()
            .role_name(role_name)
            .policy_name(&name)
            .send()
            .await
            .map_err(|e| Failure::from_sdk("GetRolePolicy", e))?;
        policies.push((name, parse_policy_document(got.policy_document())));
    }
    Ok(policies)
}

/// The role's trust policy, or `None` when there is no such role.
pub async fn trust_policy(client: &Client, role_name: &str) -> Result<Option<serde_json::Value>, Failure> {
    let role = match client.get_role().role_name(role_name).send().await {
        Ok(r) => r,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => return Ok(None),
        Err(e) => return Err(Failure::from_sdk("GetRole", e)),
    };
    let document = role.role().and_then(|r| r.assume_role_policy_document()).unwrap_or_default();
    Ok(Some(parse_policy_document(document)))
}

/// IAM returns policy documents URL-encoded; some implementations do not. Plain JSON is
/// taken as it is (decoding it would turn a `%3A` inside a subject into `:`).
pub fn parse_policy_document(document: &str) -> serde_json::Value {
    serde_json::from_str(document).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
        serde_json::from_str(&decoded).unwrap_or(serde_json::Value::Null)
    })
}

/// `arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com`
/// → `https://token.actions.githubusercontent.com`
pub fn provider_url_of(arn: &str) -> Option<String> {
    arn.split_once(":oidc-provider/").map(|(_, host)| format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_read_encoded_or_not() {
        let plain = r#"{"Statement":[{"Condition":{"StringEquals":{"k":"repo:a/b:ref:refs/heads/x%3Ay"}}}]}"#;
        let doc = parse_policy_document(plain);
        assert_eq!(doc["Statement"][0]["Condition"]["StringEquals"]["k"], "repo:a/b:ref:refs/heads/x%3Ay");
        let encoded = "%7B%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_policy_document(encoded), serde_json::json!({"Statement": []}));
    }

    #[test]
    fn the_provider_url_is_read_from_its_arn() {
        assert_eq!(
            provider_url_of("arn:aws-cn:iam::111122223333:oidc-provider/token.actions.githubusercontent.com")
                .as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            provider_url_of("arn:aws:iam::111122223333:oidc-provider/ghe.example.com/_services/token").as_deref(),
            Some("https://ghe.example.com/_services/token")
        );
        assert_eq!(provider_url_of("arn:aws:iam::111122223333:role/x"), None);
    }
}

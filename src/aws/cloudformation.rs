//! CloudFormation calls, returning plain data the deploy engine can reason about.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType};
use serde::Serialize;
use serde_json::Value;

use super::Failure;
use crate::spec::Tag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub termination_protection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub id: String,
    pub stack_id: String,
    pub status: String,
    pub execution_status: String,
    pub status_reason: Option<String>,
    pub changes: Vec<Change>,
}

/// One row of a change set: what happens to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    pub replacement: Option<String>,
    /// The resource's properties before and after (`IncludePropertyValues`), where given.
    #[serde(skip)]
    pub before: Option<Value>,
    #[serde(skip)]
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackEvent {
    #[serde(skip)]
    pub id: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetKind {
    Create,
    Update,
}

/// The stack named (or with the id) `stack`, or `None` when there is none.
pub async fn describe_stack(client: &Client, stack: &str) -> Result<Option<Stack>, Failure> {
    let response = match client.describe_stacks().stack_name(stack).send().await {
        Ok(r) => r,
        Err(e) if e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist")) => {
            return Ok(None);
        }
        Err(e) => return Err(Failure::from_sdk("DescribeStacks", e)),
    };
    Ok(response.stacks().first().map(|s| Stack {
        id: s.stack_id().unwrap_or_default().to_string(),
        name: s.stack_name().unwrap_or_default().to_string(),
        status: s.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        status_reason: s.stack_status_reason().filter(|r| !r.is_empty()).map(str::to_string),
        outputs: s
            .outputs()
            .iter()
            .map(|o| (o.output_key().unwrap_or_default().to_string(), o.output_value().unwrap_or_default().to_string()))
            .collect(),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
    }))
}

pub async fn set_termination_protection(client: &Client, stack: &str, enabled: bool) -> Result<(), Failure> {
    client
        .update_termination_protection()
        .stack_name(stack)
        .enable_termination_protection(enabled)
        .send()
        .await
        .map_err(|e| Failure::from_sdk("UpdateTerminationProtection", e))?;
    Ok(())
}

/// The template the stack was last deployed with.
pub async fn template(client: &Client, stack: &str) -> Result<Value, Failure> {
    let response =
        client.get_template().stack_name(stack).send().await.map_err(|e| Failure::from_sdk("GetTemplate", e))?;
    serde_json::from_str(response.template_body().unwrap_or_default()).map_err(|e| Failure {
        operation: "GetTemplate",
        code: None,
        detail: format!("the stack's template is not JSON ({e}); gh-oidc only manages stacks it created"),
    })
}

pub struct NewChangeSet<'a> {
    pub stack_name: &'a str,
    /// From `change_set_name`.
    pub name: &'a str,
    pub kind: ChangeSetKind,
    pub template: &'a str,
    /// Tags for the stack; none given leaves the stack's tags as they are.
    pub tags: &'a [Tag],
}

/// Creates a change set; returns its id and the stack id.
pub async fn create_change_set(client: &Client, new: NewChangeSet<'_>) -> Result<(String, String), Failure> {
    let tags = new
        .tags
        .iter()
        .map(|t| aws_sdk_cloudformation::types::Tag::builder().key(&t.key).value(&t.value).build())
        .collect::<Vec<_>>();
    let response = client
        .create_change_set()
        .stack_name(new.stack_name)
        .change_set_name(new.name)
        .change_set_type(match new.kind {
            ChangeSetKind::Create => ChangeSetType::Create,
            ChangeSetKind::Update => ChangeSetType::Update,
        })
        .template_body(new.template)
        // The template names its role, so CloudFormation needs the explicit acknowledgement.
        .capabilities(Capability::CapabilityNamedIam)
        .set_tags((!tags.is_empty()).then_some(tags))
        .description(CHANGE_SET_DESCRIPTION)
        .send()
        .await
        .map_err(|e| Failure::from_sdk("CreateChangeSet", e))?;
    Ok((response.id().unwrap_or_default().to_string(), response.stack_id().unwrap_or_default().to_string()))
}

/// Marks the change sets gh-oidc makes, so it can tell its own leftovers from others'.
pub const CHANGE_SET_DESCRIPTION: &str = "Planned by gh-oidc";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetSummary {
    pub name: String,
    pub description: Option<String>,
}

/// The stack's change sets with their descriptions (read one by one: not every
/// implementation of ListChangeSets returns them).
pub async fn change_sets(client: &Client, stack: &str) -> Result<Vec<ChangeSetSummary>, Failure> {
    let mut pages = client.list_change_sets().stack_name(stack).into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("ListChangeSets", e))?;
        ids.extend(page.summaries().iter().filter_map(|s| s.change_set_id()).map(str::to_string));
    }
    let mut summaries = Vec::with_capacity(ids.len());
    for id in ids {
        let described = client
            .describe_change_set()
            .change_set_name(&id)
            .send()
            .await
            .map_err(|e| Failure::from_sdk("DescribeChangeSet", e))?;
        summaries.push(ChangeSetSummary {
            name: described.change_set_name().unwrap_or(&id).to_string(),
            description: described.description().map(str::to_string),
        });
    }
    Ok(summaries)
}

/// Unique per run (time and process), and valid: `^[a-zA-Z][-a-zA-Z0-9]*$`.
pub fn change_set_name() -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("gh-oidc-{millis}-{}", std::process::id())
}

/// The id of the change set `name` on `stack`, and the stack id, if it exists.
pub async fn find_change_set(client: &Client, stack: &str, name: &str) -> Result<Option<(String, String)>, Failure> {
    match client.describe_change_set().stack_name(stack).change_set_name(name).send().await {
        Ok(found) => Ok(Some((
            found.change_set_id().unwrap_or_default().to_string(),
            found.stack_id().unwrap_or_default().to_string(),
        ))),
        Err(e)
            if e.as_service_error().is_some_and(|s| s.is_change_set_not_found_exception())
                || e.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(e) => Err(Failure::from_sdk("DescribeChangeSet", e)),
    }
}

/// The change set with every page of its changes.
pub async fn describe_change_set(client: &Client, id: &str) -> Result<ChangeSet, Failure> {
    let mut pages =
        client.describe_change_set().change_set_name(id).include_property_values(true).into_paginator().send();
    let mut change_set: Option<ChangeSet> = None;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("DescribeChangeSet", e))?;
        let changes = page.changes().iter().filter_map(|c| c.resource_change()).map(|rc| Change {
            action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
            logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: rc.resource_type().unwrap_or_default().to_string(),
            physical_id: rc.physical_resource_id().filter(|p| !p.is_empty()).map(str::to_string),
            replacement: rc.replacement().map(|r| r.as_str().to_string()),
            before: rc.before_context().and_then(properties),
            after: rc.after_context().and_then(properties),
        });
        match &mut change_set {
            Some(cs) => cs.changes.extend(changes),
            None => {
                change_set = Some(ChangeSet {
                    id: page.change_set_id().unwrap_or(id).to_string(),
                    stack_id: page.stack_id().unwrap_or_default().to_string(),
                    status: page.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    execution_status: page.execution_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    status_reason: page.status_reason().map(str::to_string),
                    changes: changes.collect(),
                })
            }
        }
    }
    Ok(change_set.expect("a paginator yields at least one page"))
}

/// A context is `{"Properties": {...}}` as a JSON string.
fn properties(context: &str) -> Option<Value> {
    let mut parsed: Value = serde_json::from_str(context).ok()?;
    Some(parsed.get_mut("Properties").map(Value::take).unwrap_or_default())
}

pub async fn execute_change_set(client: &Client, id: &str) -> Result<(), Failure> {
    client
        .execute_change_set()
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| Failure::from_sdk("ExecuteChangeSet", e))?;
    Ok(())
}

pub async fn delete_change_set(client: &Client, id: &str) -> Result<(), Failure> {
    client.delete_change_set().change_set_name(id).send().await.map_err(|e| Failure::from_sdk("DeleteChangeSet", e))?;
    Ok(())
}

pub async fn delete_stack(client: &Client, stack: &str) -> Result<(), Failure> {
    client.delete_stack().stack_name(stack).send().await.map_err(|e| Failure::from_sdk("DeleteStack", e))?;
    Ok(())
}

/// Events newer than `after` (an event id), newest first; all events when `after` is `None`.
/// Reads further pages only until it meets `after`, so a long history costs one call.
pub async fn events_since(client: &Client, stack: &str, after: Option<&str>) -> Result<Vec<StackEvent>, Failure> {
    let mut pages = client.describe_stack_events().stack_name(stack).into_paginator().send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("DescribeStackEvents", e))?;
        for e in page.stack_events() {
            if e.event_id().is_some() && e.event_id() == after {
                return Ok(events);
            }
            events.push(event(e));
        }
    }
    Ok(events)
}

/// The newest page of events, newest first.
pub async fn latest_events(client: &Client, stack: &str) -> Result<Vec<StackEvent>, Failure> {
    let page = client
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| Failure::from_sdk("DescribeStackEvents", e))?;
    Ok(page.stack_events().iter().map(event).collect())
}

fn event(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_string(),
        timestamp: e.timestamp().and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()).unwrap_or_default(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: e.resource_type().unwrap_or_default().to_string(),
        status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: e.resource_status_reason().filter(|r| !r.is_empty()).map(str::to_string),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
}

pub async fn resources(client: &Client, stack: &str) -> Result<Vec<Resource>, Failure> {
    let mut pages = client.list_stack_resources().stack_name(stack).into_paginator().send();
    let mut resources = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::from_sdk("ListStackResources", e))?;
        resources.extend(page.stack_resource_summaries().iter().map(|r| Resource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: r.resource_type().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().filter(|p| !p.is_empty()).map(str::to_string),
        }));
    }
    Ok(resources)
}

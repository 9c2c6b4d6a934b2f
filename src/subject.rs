//! The `sub` claim patterns a role trusts, checked so that a pattern can only ever match
//! repositories the user named.
//!
//! Formats (GitHub's documentation): `repo:OWNER/REPO:ref:refs/heads/BRANCH`,
//! `repo:OWNER/REPO:environment:NAME`, `repo:OWNER/REPO:pull_request`, and the immutable-ID form
//! `repo:OWNER@OWNER_ID/REPO@REPO_ID:...`.

use crate::error::{Error, Result};

/// A checked `sub` pattern, and the repository it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub pattern: String,
    pub owner: String,
    pub repo: String,
}

impl Subject {
    /// Parses a raw `--repo-pattern` value; `flag` names the flag in error messages.
    pub fn parse(flag: &str, pattern: &str) -> Result<Subject> {
        let bad = |why: &str| Error::input(format!("{flag} '{pattern}': {why}"));
        let example = "e.g. 'repo:acme/app:ref:refs/heads/main' or 'repo:acme/app:environment:prod'";

        let rest = pattern
            .strip_prefix("repo:")
            .ok_or_else(|| bad(&format!("a GitHub subject starts with 'repo:OWNER/REPO:', {example}")))?;
        let (repository, qualifier) = rest.split_once(':').unwrap_or((rest, ""));
        if has_wildcard(repository) {
            return Err(bad(&format!(
                "a wildcard in the owner or repository name also matches repositories you do not own \
                 (e.g. '{}-evil'); name the repository exactly and put wildcards only after it, {example}",
                repository.trim_end_matches(['*', '?'])
            )));
        }
        let (owner, repo) =
            repository.split_once('/').ok_or_else(|| bad(&format!("expected 'repo:OWNER/REPO:...', {example}")))?;
        let owner_name = check_name(owner, is_owner_char, 39)
            .map_err(|why| bad(&format!("owner {why}; GitHub owners are letters, digits and '-'")))?;
        let repo_name = check_name(repo, is_repo_char, 100).map_err(|why| {
            bad(&format!("repository {why}; GitHub repository names are letters, digits, '.', '-' and '_'"))
        })?;
        if qualifier.is_empty() {
            return Err(bad(&format!(
                "say which runs may assume the role after the repository (a branch, tag, environment, \
                 pull_request or '*'), {example}"
            )));
        }
        Ok(Subject { pattern: pattern.to_string(), owner: owner_name.to_string(), repo: repo_name.to_string() })
    }

    pub fn has_wildcard(&self) -> bool {
        has_wildcard(&self.pattern)
    }
}

/// IAM's `StringLike` wildcards.
fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn is_owner_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn is_repo_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Checks a name that may carry an immutable id (`name@12345`) and returns the bare name.
fn check_name(value: &str, allowed: fn(char) -> bool, max: usize) -> Result<&str, String> {
    let (name, id) = match value.split_once('@') {
        Some((name, id)) => (name, Some(id)),
        None => (value, None),
    };
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > max {
        return Err(format!("'{name}' is longer than {max} characters"));
    }
    if let Some(bad) = name.chars().find(|&c| !allowed(c)) {
        return Err(format!("'{name}' contains '{bad}'"));
    }
    if let Some(id) = id
        && (id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("id '{id}' after '@' must be digits"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> Result<Subject> {
        Subject::parse("--repo-pattern", p)
    }

    #[test]
    fn accepts_every_documented_form() {
        for p in [
            "repo:acme/app:ref:refs/heads/main",
            "repo:acme/app:ref:refs/tags/v*",
            "repo:acme/app:environment:prod",
            "repo:acme/app:pull_request",
            "repo:acme/app:*",
            "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main",
            "repo:acme/my.app_v2:ref:refs/heads/feature%3Ax",
        ] {
            let s = parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(s.pattern, p);
        }
    }

    #[test]
    fn names_the_repository_without_ids() {
        let s = parse("repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main").unwrap();
        assert_eq!((s.owner.as_str(), s.repo.as_str()), ("octo-org", "octo-repo"));
    }

    #[test]
    fn refuses_wildcards_in_owner_or_repository() {
        for p in
            ["*", "repo:*", "repo:acme*", "repo:acme/app*:*", "repo:acme/*:*", "repo:a?me/app:*", "repo:acme@*/app:*"]
        {
            let err = parse(p).unwrap_err();
            assert!(err.message.starts_with(&format!("--repo-pattern '{p}':")), "{}", err.message);
            if p != "*" {
                assert!(err.message.contains("wildcard in the owner or repository"), "{}", err.message);
            }
        }
        assert!(parse("repo:acme/app*:*").unwrap_err().message.contains("'acme/app-evil'"));
    }

    #[test]
    fn refuses_malformed_subjects() {
        for (p, why) in [
            ("acme/app:*", "starts with 'repo:OWNER/REPO:'"),
            ("repo:acme:ref:refs/heads/main", "expected 'repo:OWNER/REPO:...'"),
            ("repo:acme/app", "say which runs"),
            ("repo:/app:*", "owner is empty"),
            ("repo:ac_me/app:*", "contains '_'"),
            ("repo:acme/a b:*", "contains ' '"),
            ("repo:acme@x1/app:*", "must be digits"),
        ] {
            let err = parse(p).unwrap_err();
            assert!(err.message.contains(why), "{p}: {}", err.message);
        }
    }

    #[test]
    fn notices_wildcards_after_the_repository() {
        assert!(parse("repo:acme/app:*").unwrap().has_wildcard());
        assert!(parse("repo:acme/app:ref:refs/heads/release-?").unwrap().has_wildcard());
        assert!(!parse("repo:acme/app:pull_request").unwrap().has_wildcard());
    }
}

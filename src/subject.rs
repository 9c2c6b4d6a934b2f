//! The `sub` claim patterns a role trusts, checked so that a pattern can only ever match
//! repositories the user named, and built from `--repo` crossed with its qualifiers.
//!
//! Formats (GitHub's documentation): `repo:OWNER/REPO:ref:refs/heads/BRANCH`,
//! `repo:OWNER/REPO:ref:refs/tags/TAG`, `repo:OWNER/REPO:environment:NAME`,
//! `repo:OWNER/REPO:pull_request`, and the immutable-ID form `repo:OWNER@OWNER_ID/REPO@REPO_ID:...`.

use crate::error::{Error, Result};

const EXAMPLE: &str = "e.g. 'repo:acme/app:ref:refs/heads/main' or 'repo:acme/app:environment:prod'";

/// A checked `sub` pattern, and the repository it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub pattern: String,
    pub owner: String,
    /// `None` for an owner-wide pattern (`repo:acme/*:...`).
    pub repo: Option<String>,
    /// Written in the immutable-ID form (`owner@123/repo@456`).
    pub ids: bool,
    /// The flag it came from, for error messages.
    pub flag: &'static str,
}

impl Subject {
    /// Parses a raw `sub` pattern; `flag` names the flag in error messages. An owner-wide
    /// pattern is refused unless `allow_owner_wide`.
    pub fn parse(flag: &'static str, pattern: &str, allow_owner_wide: bool) -> Result<Subject> {
        let bad = |why: &str| Error::input(format!("{flag} '{pattern}': {why}"));

        let rest = pattern
            .strip_prefix("repo:")
            .ok_or_else(|| bad(&format!("a GitHub subject starts with 'repo:OWNER/REPO:', {EXAMPLE}")))?;
        let (repository, qualifier) = rest.split_once(':').unwrap_or((rest, ""));
        let (owner, repo) = repository.split_once('/').unwrap_or((repository, ""));
        let owner_wide = repo == "*" && !has_wildcard(owner);
        if has_wildcard(owner) || (has_wildcard(repo) && !owner_wide) {
            return Err(bad(&format!(
                "a wildcard in the owner or repository name also matches repositories you do not own \
                 (e.g. '{}-evil'); name the repository exactly and put wildcards only after it, {EXAMPLE}",
                repository.trim_end_matches(['*', '?'])
            )));
        }
        if owner_wide && !allow_owner_wide {
            return Err(bad(&format!(
                "trusts every repository of '{owner}', including ones created later; name the repositories, \
                 or pass --allow-owner-wide if that is really meant"
            )));
        }
        if repo.is_empty() {
            return Err(bad(&format!("expected 'repo:OWNER/REPO:...', {EXAMPLE}")));
        }
        let (owner_name, owner_id) = check_name(owner, is_owner_char, 39)
            .map_err(|why| bad(&format!("owner {why}; GitHub owners are letters, digits and '-'")))?;
        let (repo_name, repo_id) = if owner_wide {
            (None, false)
        } else {
            let (name, id) = check_name(repo, is_repo_char, 100).map_err(|why| {
                bad(&format!("repository {why}; GitHub repository names are letters, digits, '.', '-' and '_'"))
            })?;
            (Some(name.to_string()), id)
        };
        if owner_id != repo_id && !owner_wide {
            return Err(bad("the immutable-ID form gives both ids: 'repo:OWNER@OWNER_ID/REPO@REPO_ID:...'"));
        }
        if qualifier.is_empty() {
            return Err(bad(&format!(
                "say which runs may assume the role after the repository (a branch, tag, environment, \
                 pull_request or '*'), {EXAMPLE}"
            )));
        }
        Ok(Subject {
            pattern: pattern.to_string(),
            owner: owner_name.to_string(),
            repo: repo_name,
            ids: owner_id,
            flag,
        })
    }

    pub fn has_wildcard(&self) -> bool {
        has_wildcard(&self.pattern)
    }

    /// Everything after `repo:OWNER/REPO:`.
    pub fn qualifier(&self) -> &str {
        self.pattern.splitn(3, ':').nth(2).unwrap_or("")
    }
}

/// Which runs of a repository may assume the role: the part of `sub` after the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    Branch(String),
    GitTag(String),
    Environment(String),
    PullRequest,
    AllRefs,
}

impl Qualifier {
    fn flag(&self) -> &'static str {
        match self {
            Qualifier::Branch(_) => "--branch",
            Qualifier::GitTag(_) => "--git-tag",
            Qualifier::Environment(_) => "--environment",
            Qualifier::PullRequest => "--pull-request",
            Qualifier::AllRefs => "--all-refs",
        }
    }

    /// The `sub` suffix; a `:` inside a value is written `%3A`, as GitHub writes it.
    fn suffix(&self) -> Result<String> {
        let value = |v: &str| -> Result<String> {
            if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::input(format!(
                    "{} '{v}': give a name without spaces (wildcards * and ? are allowed)",
                    self.flag()
                )));
            }
            Ok(v.replace(':', "%3A"))
        };
        Ok(match self {
            Qualifier::Branch(b) => format!("ref:refs/heads/{}", value(b)?),
            Qualifier::GitTag(t) => format!("ref:refs/tags/{}", value(t)?),
            Qualifier::Environment(e) => format!("environment:{}", value(e)?),
            Qualifier::PullRequest => "pull_request".to_string(),
            Qualifier::AllRefs => "*".to_string(),
        })
    }
}

/// Every `--repo` crossed with every qualifier.
pub fn build(repos: &[String], qualifiers: &[Qualifier], allow_owner_wide: bool) -> Result<Vec<Subject>> {
    match (repos.first(), qualifiers.first()) {
        (Some(repo), None) => {
            return Err(Error::input(format!(
                "--repo '{repo}': say which runs may assume the role with --branch NAME, --git-tag NAME, \
                 --environment NAME, --pull-request or --all-refs"
            )));
        }
        (None, Some(q)) => {
            return Err(Error::input(format!(
                "{}: name the repository it applies to with --repo OWNER/REPO",
                q.flag()
            )));
        }
        _ => {}
    }
    let mut subjects = Vec::with_capacity(repos.len() * qualifiers.len());
    for repo in repos {
        if repo.contains(':') {
            return Err(Error::input(format!(
                "--repo '{repo}': give OWNER/REPO only; raw subjects go in --repo-pattern"
            )));
        }
        for qualifier in qualifiers {
            let pattern = format!("repo:{repo}:{}", qualifier.suffix()?);
            subjects.push(Subject::parse("--repo", &pattern, allow_owner_wide).map_err(|e| {
                Error::input(e.message.replacen(&format!("--repo '{pattern}'"), &format!("--repo '{repo}'"), 1))
            })?);
        }
    }
    Ok(subjects)
}

/// The builder flags that produce exactly `sub`, when it has one of GitHub's standard forms:
/// `repo:acme/app:environment:prod` → `--repo acme/app --environment prod`.
pub fn builder_flags(sub: &str) -> Option<String> {
    let rest = sub.strip_prefix("repo:")?;
    let (repository, qualifier) = rest.split_once(':')?;
    if has_wildcard(sub) || !repository.contains('/') {
        return None;
    }
    let decode = |v: &str| v.replace("%3A", ":");
    let flag = if let Some(branch) = qualifier.strip_prefix("ref:refs/heads/") {
        format!("--branch {}", decode(branch))
    } else if let Some(tag) = qualifier.strip_prefix("ref:refs/tags/") {
        format!("--git-tag {}", decode(tag))
    } else if let Some(environment) = qualifier.strip_prefix("environment:") {
        format!("--environment {}", decode(environment))
    } else if qualifier == "pull_request" {
        "--pull-request".to_string()
    } else {
        return None;
    };
    Some(format!("--repo {repository} {flag}"))
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

/// Checks a name that may carry an immutable id (`name@12345`): returns the bare name and
/// whether an id was given.
fn check_name(value: &str, allowed: fn(char) -> bool, max: usize) -> Result<(&str, bool), String> {
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
    Ok((name, id.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> Result<Subject> {
        Subject::parse("--repo-pattern", p, false)
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
        assert_eq!((s.owner.as_str(), s.repo.as_deref(), s.ids), ("octo-org", Some("octo-repo"), true));
        assert_eq!(s.qualifier(), "ref:refs/heads/main");
        assert!(!parse("repo:acme/app:pull_request").unwrap().ids);
    }

    #[test]
    fn refuses_wildcards_in_owner_or_repository() {
        for p in ["repo:*", "repo:acme*", "repo:acme/app*:*", "repo:a?me/app:*", "repo:acme@*/app:*", "repo:*/*:*"] {
            let err = parse(p).unwrap_err();
            assert!(err.message.starts_with(&format!("--repo-pattern '{p}':")), "{}", err.message);
            assert!(err.message.contains("wildcard in the owner or repository"), "{}", err.message);
        }
        assert!(parse("repo:acme/app*:*").unwrap_err().message.contains("'acme/app-evil'"));
        assert!(parse("*").unwrap_err().message.contains("starts with 'repo:OWNER/REPO:'"));
    }

    #[test]
    fn owner_wide_only_behind_its_flag() {
        let err = parse("repo:acme/*:ref:refs/heads/main").unwrap_err();
        assert!(err.message.contains("every repository of 'acme'") && err.message.contains("--allow-owner-wide"));
        let s = Subject::parse("--repo-pattern", "repo:acme/*:ref:refs/heads/main", true).unwrap();
        assert_eq!((s.owner.as_str(), s.repo), ("acme", None));
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
            ("repo:acme@1/app:*", "gives both ids"),
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

    fn patterns(repos: &[&str], qualifiers: &[Qualifier]) -> Result<Vec<String>> {
        let repos: Vec<String> = repos.iter().map(|s| s.to_string()).collect();
        Ok(build(&repos, qualifiers, false)?.into_iter().map(|s| s.pattern).collect())
    }

    #[test]
    fn builders_cross_every_repository_with_every_qualifier() {
        let q = [
            Qualifier::Branch("main".into()),
            Qualifier::GitTag("v*".into()),
            Qualifier::Environment("prod".into()),
            Qualifier::PullRequest,
            Qualifier::AllRefs,
        ];
        assert_eq!(
            patterns(&["acme/app", "acme@1/lib@2"], &q).unwrap(),
            [
                "repo:acme/app:ref:refs/heads/main",
                "repo:acme/app:ref:refs/tags/v*",
                "repo:acme/app:environment:prod",
                "repo:acme/app:pull_request",
                "repo:acme/app:*",
                "repo:acme@1/lib@2:ref:refs/heads/main",
                "repo:acme@1/lib@2:ref:refs/tags/v*",
                "repo:acme@1/lib@2:environment:prod",
                "repo:acme@1/lib@2:pull_request",
                "repo:acme@1/lib@2:*",
            ]
        );
    }

    #[test]
    fn standard_subjects_map_back_to_builder_flags() {
        for (sub, flags) in [
            ("repo:acme/app:ref:refs/heads/main", Some("--repo acme/app --branch main")),
            ("repo:acme/app:ref:refs/heads/feat%3Ax", Some("--repo acme/app --branch feat:x")),
            ("repo:acme/app:ref:refs/tags/v1.2", Some("--repo acme/app --git-tag v1.2")),
            ("repo:acme@1/app@2:environment:prod", Some("--repo acme@1/app@2 --environment prod")),
            ("repo:acme/app:pull_request", Some("--repo acme/app --pull-request")),
            ("repo:acme/app:job_workflow_ref:x", None),
            ("repo:acme/app:*", None),
        ] {
            assert_eq!(builder_flags(sub).as_deref(), flags, "{sub}");
            if let Some(flags) = flags {
                // What the flags build is the subject they came from.
                let words: Vec<&str> = flags.split(' ').collect();
                let qualifier = match words[2] {
                    "--branch" => Qualifier::Branch(words[3].into()),
                    "--git-tag" => Qualifier::GitTag(words[3].into()),
                    "--environment" => Qualifier::Environment(words[3].into()),
                    _ => Qualifier::PullRequest,
                };
                assert_eq!(build(&[words[1].to_string()], &[qualifier], false).unwrap()[0].pattern, sub);
            }
        }
    }

    #[test]
    fn builder_values_are_encoded_and_checked() {
        assert_eq!(
            patterns(&["acme/app"], &[Qualifier::Branch("feat:x".into())]).unwrap(),
            ["repo:acme/app:ref:refs/heads/feat%3Ax"]
        );
        assert!(
            patterns(&["acme/app"], &[Qualifier::Environment("a b".into())])
                .unwrap_err()
                .message
                .starts_with("--environment 'a b'")
        );
        let err = patterns(&["acme/app"], &[]).unwrap_err().message;
        assert!(err.starts_with("--repo 'acme/app': say which runs") && err.contains("--all-refs"), "{err}");
        assert!(
            patterns(&[], &[Qualifier::PullRequest])
                .unwrap_err()
                .message
                .starts_with("--pull-request: name the repository")
        );
        let err = patterns(&["acme*"], &[Qualifier::PullRequest]).unwrap_err().message;
        assert!(err.starts_with("--repo 'acme*': a wildcard"), "{err}");
        let err = patterns(&["repo:acme/app:*"], &[Qualifier::PullRequest]).unwrap_err().message;
        assert!(err.contains("raw subjects go in --repo-pattern"), "{err}");
    }
}

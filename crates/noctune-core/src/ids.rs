//! Identifiers of runs, tasks and approvals.
//!
//! Task ids and approval ids are deterministic: the same inputs always give the same id, so a
//! resumed run finds its own state and a decision made in the morning finds its approval.

use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Hex SHA-256 of `parts`, each length-prefixed so that `("ab", "c")` and `("a", "bc")` differ.
pub fn stable_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

/// Hex SHA-256 of one byte string (used for "the content the run read").
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn check_id(what: &'static str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some("it is empty".to_owned())
    } else if value.len() > 96 {
        Some("it is longer than 96 characters".to_owned())
    } else if value.starts_with('.') || value.starts_with('-') {
        Some("it may not start with `.` or `-`".to_owned())
    } else {
        value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map(|c| format!("`{c}` is not allowed (use letters, digits, `-`, `_`, `.`)"))
    };
    match reason {
        Some(reason) => Err(Error::InvalidId {
            what,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an id: letters, digits, `-`, `_` and `.`, at most 96
            /// characters, so that it is always safe as a directory name.
            pub fn new(value: impl Into<String>) -> Result<Self> {
                let value = value.into();
                check_id($what, &value)?;
                Ok(Self(value))
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }
    };
}

id_type!(
    /// A run's id: the directory name under `.noctune_cache/runs/`. Chosen by the user with
    /// `--run-id`, or generated from the start time.
    RunId,
    "run id"
);
id_type!(
    /// A task's id: one per file in a run, derived from the file's repo-relative path.
    TaskId,
    "task id"
);
id_type!(
    /// An approval's id, derived from the run, the task, the pass and the proposed content.
    ApprovalId,
    "approval id"
);

impl RunId {
    /// A fresh id from the current time: `20261121-071420-3f9a` (UTC; the suffix tells apart
    /// runs started in the same second).
    pub fn generate() -> Self {
        let now = jiff::Timestamp::now();
        let stamp = now.strftime("%Y%m%d-%H%M%S").to_string();
        let nanos = now.subsec_nanosecond() as u64;
        let salt = stable_hash(&[&nanos.to_le_bytes(), &std::process::id().to_le_bytes()]);
        Self(format!("{stamp}-{}", &salt[..4]))
    }
}

impl TaskId {
    /// The task id of a repo-relative file path: a readable slug of the path plus a short hash of
    /// it, e.g. `pkg_util_py-5d41402a`. The same path always gives the same id.
    pub fn for_path(rel_path: &Path) -> Self {
        let text = rel_path.to_string_lossy().replace('\\', "/");
        let mut slug: String = text
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        // Keep the end of long paths: the file name says most.
        if slug.len() > 60 {
            slug = slug[slug.len() - 60..].to_owned();
        }
        let slug = slug.trim_start_matches(['_', '.', '-']);
        let hash = stable_hash(&[text.as_bytes()]);
        Self(format!("{slug}-{}", &hash[..8]))
    }
}

impl ApprovalId {
    /// The approval id of a proposed change: the same run, task, pass and proposed content
    /// always give the same id.
    pub fn derive(run_id: &RunId, task_id: &TaskId, pass: u32, proposed_content: &str) -> Self {
        let hash = stable_hash(&[
            run_id.as_str().as_bytes(),
            task_id.as_str().as_bytes(),
            &pass.to_le_bytes(),
            proposed_content.as_bytes(),
        ]);
        Self(format!("ap-{}", &hash[..12]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_deterministic_and_distinct() {
        let a = TaskId::for_path(Path::new("pkg/util.py"));
        assert_eq!(a, TaskId::for_path(Path::new("pkg/util.py")));
        assert_ne!(a, TaskId::for_path(Path::new("pkg_util.py")));
        assert!(a.as_str().starts_with("pkg_util_py-"), "{a}");
        TaskId::new(a.as_str()).unwrap();
    }

    #[test]
    fn approval_ids_depend_on_every_input() {
        let run = RunId::new("r1").unwrap();
        let task = TaskId::for_path(Path::new("a.py"));
        let id = ApprovalId::derive(&run, &task, 1, "x = 1\n");
        assert_eq!(id, ApprovalId::derive(&run, &task, 1, "x = 1\n"));
        assert_ne!(id, ApprovalId::derive(&run, &task, 2, "x = 1\n"));
        assert_ne!(id, ApprovalId::derive(&run, &task, 1, "x = 2\n"));
    }

    #[test]
    fn bad_ids_are_rejected_with_the_reason() {
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            let err = RunId::new(bad).unwrap_err().to_string();
            assert!(err.contains("invalid run id"), "{err}");
        }
        RunId::new(RunId::generate().as_str()).unwrap();
    }

    #[test]
    fn stable_hash_separates_parts() {
        assert_ne!(stable_hash(&[b"ab", b"c"]), stable_hash(&[b"a", b"bc"]));
    }
}

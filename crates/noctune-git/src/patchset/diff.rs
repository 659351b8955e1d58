//! A patchset as unified diffs for people (`noctune patchset show`), with the diff of a file
//! that looks like a secret withheld: the finding is named, the secret never printed.

use std::path::PathBuf;

use serde::Serialize;

use super::group::Patchset;
use crate::secrets::{scan_added, secret_path};

/// One file of a patchset as a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// The file.
    pub file: PathBuf,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The unified diff (before the patchset's first change → after its last), `None` when
    /// withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why the diff is withheld (a secret rule and line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// A unified diff of `before` (named `old`) and `after` (named `new`), 3 lines of context.
pub fn unified(old: &str, new: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header(old, new)
        .to_string()
}

/// Each file of `patchset` as a diff.
pub fn file_diffs(patchset: &Patchset) -> Vec<FileDiff> {
    patchset
        .file_texts()
        .into_iter()
        .map(|(file, before, after)| {
            let diff = similar::TextDiff::from_lines(before, after);
            let (mut added, mut removed) = (0, 0);
            for change in diff.iter_all_changes() {
                match change.tag() {
                    similar::ChangeTag::Insert => added += 1,
                    similar::ChangeTag::Delete => removed += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
            let withheld = secret_path(file)
                .or_else(|| scan_added(before, after))
                .map(|finding| format!("looks like a secret: {finding}"));
            let name = file.to_string_lossy();
            let text = withheld
                .is_none()
                .then(|| unified(&format!("a/{name}"), &format!("b/{name}"), before, after));
            FileDiff {
                file: file.to_path_buf(),
                added,
                removed,
                diff: text,
                withheld,
            }
        })
        .collect()
}

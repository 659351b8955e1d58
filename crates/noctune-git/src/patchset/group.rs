//! Grouping a run's applied changes into patchsets. The same changes and options always give
//! the same patchsets, in the same order, with the same ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use noctune_core::ids::{content_hash, stable_hash};
use noctune_core::morning::AppliedChange;
use serde::Serialize;

/// How changes are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// One patchset per file.
    File,
    /// One per module: the first `patchset_module_depth` directories of the file's path.
    Module,
    /// One per policy pack (a run has one pack).
    Pack,
    /// Everything in one patchset.
    Single,
    /// One per applied change (`commit_each_approval`, the debug mode).
    Change,
}

impl Grouping {
    /// The name the CLI and JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Module => "module",
            Self::Pack => "pack",
            Self::Single => "single",
            Self::Change => "change",
        }
    }
}

/// One group of applied changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patchset {
    /// `ps-` and 12 hex digits, from the run, the grouping, the key and the changes.
    pub id: String,
    /// What the changes share: the file, the module directory, the pack, or `all`.
    pub key: String,
    /// How it was grouped.
    pub grouping: Grouping,
    /// The files it changes, sorted.
    pub files: Vec<PathBuf>,
    /// The changes, in the order they were applied.
    pub changes: Vec<AppliedChange>,
}

impl Patchset {
    fn new(run_id: &str, grouping: Grouping, key: String, mut changes: Vec<AppliedChange>) -> Self {
        changes.sort_by_key(|c| c.idx);
        let mut files: Vec<PathBuf> = changes.iter().map(|c| c.file.clone()).collect();
        files.sort();
        files.dedup();
        let mut parts: Vec<Vec<u8>> = vec![
            run_id.as_bytes().to_vec(),
            grouping.as_str().as_bytes().to_vec(),
            key.as_bytes().to_vec(),
        ];
        for change in &changes {
            parts.push(change.file.to_string_lossy().as_bytes().to_vec());
            parts.push(change.pass.to_le_bytes().to_vec());
            parts.push(content_hash(change.after.as_bytes()).into_bytes());
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let id = format!("ps-{}", &stable_hash(&refs)[..12]);
        Self {
            id,
            key,
            grouping,
            files,
            changes,
        }
    }

    /// Each file's text before the patchset's first change and after its last one.
    pub fn file_texts(&self) -> Vec<(&Path, &str, &str)> {
        self.files
            .iter()
            .filter_map(|file| {
                let mut of_file = self.changes.iter().filter(|c| &c.file == file);
                let first = of_file.next()?;
                let last = of_file.next_back().unwrap_or(first);
                Some((file.as_path(), first.before.as_str(), last.after.as_str()))
            })
            .collect()
    }
}

/// The module of `file`: its first `depth` directories (`.` for a file at the root).
pub fn module_of(file: &Path, depth: usize) -> String {
    let dirs: Vec<String> = file
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .take(depth)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if dirs.is_empty() {
        ".".to_owned()
    } else {
        dirs.join("/")
    }
}

/// Groups `changes` of run `run_id` (pack `pack`); patchsets sorted by key. `Change` gives
/// one patchset per change, as [`per_change`].
pub fn group(
    run_id: &str,
    pack: &str,
    changes: &[AppliedChange],
    grouping: Grouping,
    module_depth: usize,
) -> Vec<Patchset> {
    if grouping == Grouping::Change {
        return per_change(run_id, changes);
    }
    let mut groups: BTreeMap<String, Vec<AppliedChange>> = BTreeMap::new();
    for change in changes {
        let key = match grouping {
            Grouping::File => change.file.to_string_lossy().replace('\\', "/"),
            Grouping::Module => module_of(&change.file, module_depth),
            Grouping::Pack => pack.to_owned(),
            Grouping::Single | Grouping::Change => "all".to_owned(),
        };
        groups.entry(key).or_default().push(change.clone());
    }
    groups
        .into_iter()
        .map(|(key, changes)| Patchset::new(run_id, grouping, key, changes))
        .collect()
}

/// One patchset per applied change, in the order applied (`commit_each_approval`).
pub fn per_change(run_id: &str, changes: &[AppliedChange]) -> Vec<Patchset> {
    let mut sorted = changes.to_vec();
    sorted.sort_by_key(|c| c.idx);
    sorted
        .into_iter()
        .map(|change| {
            let key = format!("{} (pass {})", change.file.display(), change.pass);
            Patchset::new(run_id, Grouping::Change, key, vec![change])
        })
        .collect()
}

/// At most `max` patchsets: neighbours (in key order) merged into near-equal runs, keys joined
/// with `+`. Fewer than `max` are returned as they are.
pub fn fit(run_id: &str, patchsets: Vec<Patchset>, max: usize) -> Vec<Patchset> {
    let max = max.max(1);
    if patchsets.len() <= max {
        return patchsets;
    }
    let total = patchsets.len();
    let mut out = Vec::with_capacity(max);
    let mut rest = patchsets.into_iter();
    for n in 0..max {
        // The first `total % max` buckets take one more.
        let size = total / max + usize::from(n < total % max);
        let bucket: Vec<Patchset> = rest.by_ref().take(size).collect();
        let Some(first) = bucket.first() else { break };
        let grouping = first.grouping;
        let key = bucket
            .iter()
            .map(|p| p.key.as_str())
            .collect::<Vec<_>>()
            .join("+");
        let changes = bucket.into_iter().flat_map(|p| p.changes).collect();
        out.push(Patchset::new(run_id, grouping, key, changes));
    }
    out
}

#[cfg(test)]
mod tests {
    use noctune_core::TaskId;

    use super::*;
    use pretty_assertions::assert_eq;

    fn change(idx: u64, file: &str) -> AppliedChange {
        AppliedChange {
            idx,
            task_id: TaskId::new(format!("t{idx}")).unwrap(),
            file: PathBuf::from(file),
            pass: 1,
            approval_id: None,
            before: format!("before {file}\n"),
            after: format!("after {file}\n"),
        }
    }

    fn keys(patchsets: &[Patchset]) -> Vec<&str> {
        patchsets.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn grouping_by_module_file_pack_and_single() {
        let changes = vec![
            change(3, "src/pkg/b.py"),
            change(1, "src/pkg/a.py"),
            change(2, "src/other/c.py"),
            change(4, "top.py"),
        ];
        let by_module = group("r1", "lint_fix", &changes, Grouping::Module, 2);
        assert_eq!(keys(&by_module), vec![".", "src/other", "src/pkg"]);
        assert_eq!(
            by_module[2].files,
            vec![PathBuf::from("src/pkg/a.py"), PathBuf::from("src/pkg/b.py")]
        );
        let shallow = group("r1", "lint_fix", &changes, Grouping::Module, 1);
        assert_eq!(keys(&shallow), vec![".", "src"]);
        assert_eq!(group("r1", "p", &changes, Grouping::File, 2).len(), 4);
        assert_eq!(
            keys(&group("r1", "p", &changes, Grouping::Pack, 2)),
            vec!["p"]
        );
        assert_eq!(
            keys(&group("r1", "p", &changes, Grouping::Single, 2)),
            vec!["all"]
        );
        let each = per_change("r1", &changes);
        assert_eq!(each[0].files, vec![PathBuf::from("src/pkg/a.py")]);
    }

    #[test]
    fn ids_are_stable_and_depend_on_the_content() {
        let changes = vec![change(1, "a.py"), change(2, "b.py")];
        let one = group("r1", "p", &changes, Grouping::File, 1);
        let reversed: Vec<_> = changes.iter().rev().cloned().collect();
        assert_eq!(one, group("r1", "p", &reversed, Grouping::File, 1));
        let mut edited = changes.clone();
        edited[0].after = "other\n".to_owned();
        assert_ne!(
            one[0].id,
            group("r1", "p", &edited, Grouping::File, 1)[0].id
        );
        assert_ne!(
            one[0].id,
            group("r2", "p", &changes, Grouping::File, 1)[0].id
        );
    }

    #[test]
    fn fitting_merges_neighbours() {
        let changes: Vec<_> = (1..=7).map(|n| change(n, &format!("m{n}/x.py"))).collect();
        let fitted = fit("r1", group("r1", "p", &changes, Grouping::Module, 1), 3);
        assert_eq!(keys(&fitted), vec!["m1+m2+m3", "m4+m5", "m6+m7"]);
        assert_eq!(fitted.iter().map(|p| p.changes.len()).sum::<usize>(), 7);
    }
}

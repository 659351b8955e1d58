//! Which files belong to the repository: the `.py` files under the root, walked in parallel,
//! respecting `.gitignore` (with or without git), skipping hidden directories, the cache, virtual
//! environments (any directory holding a `pyvenv.cfg`), `node_modules`, `__pycache__`, and the
//! configured excludes. The index and the callsite search use the same walk.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use crate::error::{Error, Result};

/// Directory names never walked into.
pub const SKIPPED_DIRS: &[&str] = &[
    noctune_core::store::CACHE_DIR,
    "node_modules",
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
];

/// What to walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkOptions {
    /// Extra gitignore-style excludes (`build/`, `*_pb2.py`).
    pub exclude: Vec<String>,
    /// Walker threads; 0 picks the number of cores.
    pub threads: usize,
}

/// One `.py` file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedFile {
    /// The path relative to the root, with `/` separators.
    pub rel: String,
    /// The absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
}

/// The `.py` files under `root`, sorted by relative path.
pub fn python_files(root: &Path, options: &WalkOptions) -> Result<Vec<WalkedFile>> {
    let walk_err = |message: String| Error::Walk {
        root: root.to_path_buf(),
        message,
    };
    if !root.is_dir() {
        return Err(walk_err("not a directory".to_owned()));
    }
    let mut overrides = OverrideBuilder::new(root);
    for pattern in &options.exclude {
        overrides
            .add(&format!("!{pattern}"))
            .map_err(|err| walk_err(format!("bad exclude `{pattern}`: {err}")))?;
    }
    let overrides = overrides
        .build()
        .map_err(|err| walk_err(format!("bad excludes: {err}")))?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        options.threads
    };
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(false)
        .overrides(overrides)
        .threads(threads)
        .filter_entry(|entry| {
            if !entry.file_type().is_some_and(|t| t.is_dir()) || entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            !SKIPPED_DIRS.contains(&name.as_ref()) && !entry.path().join("pyvenv.cfg").exists()
        });
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let found = &found;
        let errors = &errors;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    if let Ok(mut errors) = errors.lock() {
                        errors.push(err.to_string());
                    }
                    return WalkState::Continue;
                }
            };
            let is_py = entry.file_type().is_some_and(|t| t.is_file())
                && entry.path().extension().is_some_and(|e| e == "py");
            if !is_py {
                return WalkState::Continue;
            }
            let Ok(metadata) = entry.metadata() else {
                return WalkState::Continue;
            };
            let mtime_ns = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            let rel = relative(root, entry.path());
            if let Ok(mut found) = found.lock() {
                found.push(WalkedFile {
                    rel,
                    path: entry.path().to_path_buf(),
                    size: metadata.len(),
                    mtime_ns,
                });
            }
            WalkState::Continue
        })
    });
    for err in errors.into_inner().unwrap_or_default() {
        tracing::warn!(root = %root.display(), "walk: {err}");
    }
    let mut files = found.into_inner().unwrap_or_default();
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

/// `path` relative to `root`, `/`-separated.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

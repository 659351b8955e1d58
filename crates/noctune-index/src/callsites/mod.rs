//! Callsites: every place an identifier occurs in the repository's `.py` files, by whole-word
//! match (what `rg -w -F` finds). Three ways, one result:
//!
//! - [`Backend::Memory`]: the sources held in memory (under a size cap), searched with a
//!   literal finder and a word-boundary check: the fast path inside a run;
//! - [`Backend::Ripgrep`]: `rg --json` over the same files, when `rg` is on `PATH`;
//! - [`Backend::InProcess`]: grep-searcher with grep-regex's word mode (ripgrep's own
//!   libraries), when it is not.
//!
//! All three search exactly the files of the index walk ([`crate::walk`]), treat every file as
//! text, and return callsites sorted by path, line and column.

mod inproc;
mod memory;
mod ripgrep;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::walk::{self, WalkOptions, WalkedFile};

pub use memory::SourceCache;

/// One occurrence of an identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Callsite {
    /// The file, relative to the root, `/`-separated.
    pub path: String,
    /// Line, 1-based.
    pub line: usize,
    /// Column of the first byte, 1-based, in bytes.
    pub column: usize,
    /// The whole line, without its line break (decoded lossily when not UTF-8).
    pub text: String,
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Sources held in memory.
    Memory,
    /// The `rg` program.
    Ripgrep,
    /// grep-searcher over the files on disk.
    InProcess,
}

/// Searches a repository for identifiers.
#[derive(Debug)]
pub struct CallsiteSearcher {
    root: PathBuf,
    files: Vec<WalkedFile>,
    cache: Option<SourceCache>,
    rg: Option<PathBuf>,
}

impl CallsiteSearcher {
    /// A searcher over the `.py` files of `root` (the index walk), skipping files larger than
    /// `max_file_bytes`. Uses ripgrep when `rg` is on `PATH`.
    pub fn new(root: &Path, walk_options: &WalkOptions, max_file_bytes: u64) -> Result<Self> {
        let root = std::path::absolute(root).map_err(|e| Error::io("resolve", root, e))?;
        let files = walk::python_files(&root, walk_options)?
            .into_iter()
            .filter(|f| f.size <= max_file_bytes)
            .collect();
        Ok(Self {
            root,
            files,
            cache: None,
            rg: find_on_path("rg"),
        })
    }

    /// Loads every source into memory when they fit in `cap_bytes` together, so later searches
    /// take milliseconds; returns whether they did.
    pub fn load_sources(&mut self, cap_bytes: u64) -> Result<bool> {
        let total: u64 = self.files.iter().map(|f| f.size).sum();
        if total > cap_bytes {
            tracing::info!(
                total,
                cap_bytes,
                "sources exceed the search cache cap; searching on disk"
            );
            return Ok(false);
        }
        self.cache = Some(SourceCache::load(&self.files)?);
        Ok(true)
    }

    /// Uses this `rg` program (or none), instead of the one found on `PATH`.
    pub fn set_ripgrep(&mut self, program: Option<PathBuf>) {
        self.rg = program;
    }

    /// The `rg` program that [`Backend::Ripgrep`] runs, if any.
    pub fn ripgrep(&self) -> Option<&Path> {
        self.rg.as_deref()
    }

    /// The repository root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files searched.
    pub fn files(&self) -> &[WalkedFile] {
        &self.files
    }

    /// The backend [`CallsiteSearcher::search`] uses: memory when loaded, else ripgrep when
    /// present, else in-process.
    pub fn backend(&self) -> Backend {
        if self.cache.is_some() {
            Backend::Memory
        } else if self.rg.is_some() {
            Backend::Ripgrep
        } else {
            Backend::InProcess
        }
    }

    /// Every whole-word occurrence of `identifier`.
    pub fn search(&self, identifier: &str) -> Result<Vec<Callsite>> {
        self.search_with(identifier, self.backend())
    }

    /// Every whole-word occurrence of `identifier`, with this backend.
    pub fn search_with(&self, identifier: &str, backend: Backend) -> Result<Vec<Callsite>> {
        if !is_identifier(identifier) {
            return Err(Error::InvalidIdentifier {
                identifier: identifier.to_owned(),
            });
        }
        let mut found = match backend {
            Backend::Memory => match &self.cache {
                Some(cache) => cache.search(identifier),
                None => {
                    return Err(Error::Search {
                        identifier: identifier.to_owned(),
                        message: "sources are not loaded in memory".to_owned(),
                    });
                }
            },
            Backend::Ripgrep => {
                let Some(rg) = &self.rg else {
                    return Err(Error::Search {
                        identifier: identifier.to_owned(),
                        message: "`rg` was not found on PATH".to_owned(),
                    });
                };
                ripgrep::search(rg, &self.root, &self.files, identifier)?
            }
            Backend::InProcess => inproc::search(&self.files, identifier)?,
        };
        found.sort();
        Ok(found)
    }
}

/// Whether `text` is a Python identifier (letters, digits, `_`, not starting with a digit).
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The first `name` found in the directories of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The text of a line without its line break.
pub(crate) fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

//! The throw-away copy of the repository a request acts on: the real tree is never written
//! until a change has passed its verifiers and been approved.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::pipeline::tests_run::copy_tree;

/// A temporary copy of the repository (without caches, `.git` and virtual environments),
/// removed when dropped.
#[derive(Debug)]
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// Copies the repository at `root`.
    pub fn copy_of(root: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("noctune-task-")
            .tempdir()
            .map_err(|err| Error::io("create a temporary directory", Path::new("$TMPDIR"), err))?;
        copy_tree(root, dir.path()).map_err(|err| Error::io("copy", root, err))?;
        Ok(Self { dir })
    }

    /// The copy's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A file of the copy (`None` when it does not exist).
    pub fn read(&self, rel: &Path) -> Result<Option<String>> {
        let path = self.dir.path().join(rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::io("read", &path, err)),
        }
    }

    /// Writes a file of the copy, creating its directories.
    pub fn write(&self, rel: &Path, text: &str) -> Result<PathBuf> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| Error::io("create directory", parent, err))?;
        }
        std::fs::write(&path, text).map_err(|err| Error::io("write", &path, err))?;
        Ok(path)
    }

    /// Removes a file of the copy (a new file given up).
    pub fn remove(&self, rel: &Path) -> Result<()> {
        let path = self.dir.path().join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(Error::io("remove", &path, err)),
        }
    }
}

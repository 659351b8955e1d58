//! Where a path really points, relative to the repository: `..` and symlinks resolved before
//! any glob sees it, so `src/../secrets.py` and a symlink out of the repository cannot pass
//! for a path inside it.

use std::path::{Component, Path, PathBuf};

/// A path inside the repository, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPath {
    /// Relative to the (canonical) root, with `/` separators: what globs are matched on.
    pub relative: String,
    /// The resolved absolute path.
    pub absolute: PathBuf,
}

/// Resolves `path` (relative to `root`, or absolute) to where it really points and returns it
/// relative to the root, or why it is not inside the repository.
///
/// The longest existing prefix is canonicalised (symlinks and `..` resolved by the OS); the
/// rest of a path that does not exist yet is appended lexically.
pub fn resolve_in_repo(root: &Path, path: &Path) -> Result<RepoPath, String> {
    let root = root.canonicalize().unwrap_or_else(|_| lexical(root));
    let candidate = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    };
    // Find the longest prefix that exists.
    let components: Vec<Component<'_>> = candidate.components().collect();
    let mut resolved = None;
    let mut rest_start = components.len();
    for end in (1..=components.len()).rev() {
        let prefix: PathBuf = components[..end].iter().collect();
        if let Ok(canonical) = prefix.canonicalize() {
            resolved = Some(canonical);
            rest_start = end;
            break;
        }
    }
    let mut absolute = resolved.unwrap_or_default();
    for component in &components[rest_start..] {
        match component {
            Component::ParentDir => {
                absolute.pop();
            }
            Component::CurDir => {}
            other => absolute.push(other),
        }
    }
    let shown = path.display();
    let Ok(relative) = absolute.strip_prefix(&root) else {
        let how = if path.is_absolute() {
            "is an absolute path"
        } else if components_have_parent(path) {
            "climbs out with `..`"
        } else {
            "is (or passes through) a symlink"
        };
        return Err(format!(
            "`{shown}` {how} to `{}`, outside the repository",
            absolute.display()
        ));
    };
    let relative = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if relative.is_empty() {
        return Err(format!("`{shown}` is the repository root, not a file"));
    }
    Ok(RepoPath { relative, absolute })
}

fn components_have_parent(path: &Path) -> bool {
    path.components().any(|c| c == Component::ParentDir)
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn resolves_dots_and_symlinks_before_matching() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.py"), "x = 1\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        std::fs::create_dir_all(root.join("src/pkg")).unwrap();
        std::fs::write(root.join("src/pkg/a.py"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.py"), root.join("src/link.py"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("src/outdir")).unwrap();
        std::os::unix::fs::symlink(root.join("src/pkg/a.py"), root.join("inner.py")).unwrap();

        let rel = |p: &str| resolve_in_repo(root, Path::new(p)).map(|r| r.relative);
        assert_eq!(rel("src/pkg/a.py"), Ok("src/pkg/a.py".to_owned()));
        assert_eq!(rel("./src/pkg/../pkg/a.py"), Ok("src/pkg/a.py".to_owned()));
        assert_eq!(rel("src/pkg/new.py"), Ok("src/pkg/new.py".to_owned()));
        assert_eq!(rel("src/new/../b.py"), Ok("src/b.py".to_owned()));
        // A symlink inside the repository resolves to its target.
        assert_eq!(rel("inner.py"), Ok("src/pkg/a.py".to_owned()));
        for escaping in [
            "../x.py",
            "src/../../x.py",
            "src/link.py",
            "src/outdir/secret.py",
            "src/outdir/new.py",
        ] {
            let err = rel(escaping).unwrap_err();
            assert!(err.contains("outside the repository"), "{escaping}: {err}");
        }
        let absolute_inside = root.join("src/pkg/a.py");
        assert_eq!(
            resolve_in_repo(root, &absolute_inside).map(|r| r.relative),
            Ok("src/pkg/a.py".to_owned())
        );
        let err = resolve_in_repo(root, &outside.path().join("secret.py")).unwrap_err();
        assert!(err.contains("is an absolute path"), "{err}");
    }
}

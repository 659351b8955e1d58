//! Where the MCP server's `repo_root` may point: a directory inside the served root. The argument is taken
//! relative to the served root (or absolute), `..` is refused outright, and the path is
//! canonicalised (symlinks resolved) and compared with the canonical served root component by
//! component, so a symlink out of the root is refused like an absolute path outside it.

use std::path::{Component, Path, PathBuf};

/// Resolves `repo_root` against the canonical served root `root`; the message names the
/// argument.
pub fn resolve_repo_root(root: &Path, repo_root: &str) -> Result<PathBuf, String> {
    let text = repo_root.trim();
    if text.is_empty() {
        return Err("bad argument `repo_root`: it is empty (use `.` for the served root)".into());
    }
    let given = Path::new(text);
    if given
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(format!(
            "bad argument `repo_root`: `{text}` contains `..`; give a directory inside the served root `{}`",
            root.display()
        ));
    }
    let joined = if given.is_absolute() {
        given.to_path_buf()
    } else {
        root.join(given)
    };
    let resolved = joined
        .canonicalize()
        .map_err(|err| format!("bad argument `repo_root`: cannot resolve `{text}`: {err}"))?;
    if !resolved.starts_with(root) {
        return Err(format!(
            "bad argument `repo_root`: `{text}` resolves to `{}`, outside the served root `{}`",
            resolved.display(),
            root.display()
        ));
    }
    if !resolved.is_dir() {
        return Err(format!(
            "bad argument `repo_root`: `{text}` is not a directory"
        ));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn repo_roots_inside_are_taken_and_everything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("served");
        std::fs::create_dir_all(root.join("sub/pkg")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("link")).unwrap();
        std::fs::write(root.join("file.py"), "").unwrap();
        let root = root.canonicalize().unwrap();
        assert_eq!(resolve_repo_root(&root, ".").unwrap(), root);
        assert_eq!(resolve_repo_root(&root, "sub").unwrap(), root.join("sub"));
        let absolute = root.join("sub/pkg");
        assert_eq!(
            resolve_repo_root(&root, absolute.to_str().unwrap()).unwrap(),
            absolute
        );
        for (arg, why) in [
            ("", "it is empty"),
            ("../outside", "contains `..`"),
            ("sub/../..", "contains `..`"),
            ("/", "outside the served root"),
            ("link", "outside the served root"),
            ("missing", "cannot resolve"),
            ("file.py", "is not a directory"),
        ] {
            let err = resolve_repo_root(&root, arg).unwrap_err();
            assert!(err.starts_with("bad argument `repo_root`: "), "{err}");
            assert!(err.contains(why), "{arg}: {err}");
        }
        // A sibling whose name starts like the root is outside (components, not strings).
        let sibling = dir.path().join("served-not");
        std::fs::create_dir_all(&sibling).unwrap();
        let err = resolve_repo_root(&root, sibling.to_str().unwrap()).unwrap_err();
        assert!(err.contains("outside the served root"), "{err}");
    }
}

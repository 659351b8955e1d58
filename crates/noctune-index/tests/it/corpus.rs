//! The real corpus: the `.py` files of the CPython standard library that ships with the
//! machine's `python3`, without site-packages.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The stdlib directory of the machine's `python3`. Fails (never skips) without python3.
pub fn stdlib_dir() -> PathBuf {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 must be on PATH: the corpus tests use its standard library");
    assert!(output.status.success(), "python3 failed: {output:?}");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Every `.py` file of the stdlib (site-packages excluded), sorted.
pub fn stdlib_files() -> Vec<PathBuf> {
    let root = stdlib_dir();
    let mut files = Vec::new();
    collect(&root, &root.join("site-packages"), &mut files);
    files.sort();
    assert!(
        files.len() > 1000,
        "expected a full stdlib under {}",
        root.display()
    );
    files
}

/// A deterministic sample: every `step`-th file of [`stdlib_files`].
pub fn stdlib_sample(step: usize) -> Vec<PathBuf> {
    stdlib_files().into_iter().step_by(step).collect()
}

fn collect(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if path != skip {
                collect(&path, skip, out);
            }
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

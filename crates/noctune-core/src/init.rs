//! `noctune init`: the documented config file and the five prompt overrides.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{CONFIG_FILE, TEMPLATE, parse_pyproject};
use crate::error::{Error, Result};
use crate::prompts::{default_prompt, override_path};
use crate::stage::Stage;
use crate::store::{CacheLayout, write_atomic};

/// What `init` did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitAction {
    /// The file did not exist and was written.
    Created,
    /// The file exists with exactly the content `init` writes.
    Unchanged,
    /// The file exists with other content (edited by the user) and was left alone.
    KeptEdited,
    /// The file had other content and `--force` replaced it.
    Overwritten,
    /// Not written: the configuration lives in `pyproject.toml` already.
    SkippedPyproject,
}

/// The files `init` considered, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    /// Each file with what happened to it.
    pub files: Vec<(PathBuf, InitAction)>,
}

/// Writes `noctune.toml` and `.noctune_cache/overrides/<stage>.md` under `root`. An existing
/// file with other content is kept unless `force`.
pub fn init(root: &Path, force: bool) -> Result<InitReport> {
    if !root.is_dir() {
        return Err(Error::io(
            "use as the repository root",
            root,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let mut report = InitReport::default();

    let config = root.join(CONFIG_FILE);
    let pyproject = root.join("pyproject.toml");
    let in_pyproject = !config.exists()
        && fs::read_to_string(&pyproject)
            .ok()
            .and_then(|text| parse_pyproject(&pyproject, &text).ok().flatten())
            .is_some();
    if in_pyproject {
        report.files.push((pyproject, InitAction::SkippedPyproject));
    } else {
        report
            .files
            .push((config.clone(), write_file(&config, TEMPLATE, force)?));
    }

    CacheLayout::for_root(root).ensure()?;
    let overrides = CacheLayout::for_root(root).overrides();
    fs::create_dir_all(&overrides).map_err(|err| Error::io("create directory", &overrides, err))?;
    for stage in Stage::ALL {
        let path = override_path(&overrides, stage);
        let action = write_file(&path, default_prompt(stage), force)?;
        report.files.push((path, action));
    }
    Ok(report)
}

fn write_file(path: &Path, content: &str, force: bool) -> Result<InitAction> {
    match fs::read(path) {
        Ok(existing) if existing == content.as_bytes() => Ok(InitAction::Unchanged),
        Ok(_) if !force => Ok(InitAction::KeptEdited),
        Ok(_) => {
            write_atomic(path, content.as_bytes())?;
            Ok(InitAction::Overwritten)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            write_atomic(path, content.as_bytes())?;
            Ok(InitAction::Created)
        }
        Err(err) => Err(Error::io("read", path, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(report: &InitReport) -> Vec<InitAction> {
        report.files.iter().map(|(_, action)| *action).collect()
    }

    #[test]
    fn creates_then_keeps_edits_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let first = init(dir.path(), false).unwrap();
        assert_eq!(
            actions(&first),
            vec![InitAction::Created; 1 + Stage::ALL.len()]
        );
        assert_eq!(
            fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(),
            TEMPLATE
        );

        let again = init(dir.path(), false).unwrap();
        assert_eq!(
            actions(&again),
            vec![InitAction::Unchanged; 1 + Stage::ALL.len()]
        );

        let review = dir.path().join(".noctune_cache/overrides/review.md");
        fs::write(&review, "my review prompt {{path}}").unwrap();
        fs::write(dir.path().join(CONFIG_FILE), "max_passes = 9\n").unwrap();
        let kept = init(dir.path(), false).unwrap();
        assert_eq!(kept.files[0].1, InitAction::KeptEdited);
        assert_eq!(kept.files[1].1, InitAction::KeptEdited);
        assert_eq!(
            fs::read_to_string(&review).unwrap(),
            "my review prompt {{path}}"
        );

        let forced = init(dir.path(), true).unwrap();
        assert_eq!(forced.files[0].1, InitAction::Overwritten);
        assert_eq!(forced.files[1].1, InitAction::Overwritten);
        assert_eq!(
            fs::read_to_string(&review).unwrap(),
            default_prompt(Stage::Review)
        );
    }

    #[test]
    fn leaves_a_pyproject_config_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.noctune]\nmax_passes = 2\n",
        )
        .unwrap();
        let report = init(dir.path(), false).unwrap();
        assert_eq!(report.files[0].1, InitAction::SkippedPyproject);
        assert!(!dir.path().join(CONFIG_FILE).exists());
    }

    #[test]
    fn missing_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = init(&dir.path().join("nope"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}

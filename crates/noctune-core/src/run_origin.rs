//! Where a run starts from, as `run.json` records it: the git branch and HEAD of the root (when
//! it is a git checkout) and the model profile of each stage.
//!
//! Core runs need no git: a root outside a repository, or no `git` on `PATH`, leaves `branch`
//! and `head_sha` empty without a word; only a log line at debug level says why.

use std::path::Path;
use std::time::Duration;

use crate::config::Settings;
use crate::process::ProcessBuilder;
use crate::run::RunRecord;

/// How long a `git rev-parse` may take before the run goes on without it.
const GIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a run records about its start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOrigin {
    /// The checked-out branch; `None` outside git, on a detached HEAD, or before the first
    /// commit.
    pub branch: Option<String>,
    /// The commit HEAD points at; `None` outside git or before the first commit.
    pub head_sha: Option<String>,
    /// The model profile: `default`, followed by `stage=profile` for each stage that
    /// `[stages]` gives a profile of its own (`default, review=big, approve=big`).
    pub profile: Option<String>,
}

impl RunOrigin {
    /// Reads the branch and HEAD of `root` with `git rev-parse`, and the profile from the
    /// settings.
    pub async fn detect(root: &Path, settings: &Settings) -> Self {
        let branch = rev_parse(root, &["--abbrev-ref", "HEAD"])
            .await
            // `HEAD` is what git answers on a detached HEAD: no branch.
            .filter(|name| name != "HEAD");
        let head_sha = rev_parse(root, &["HEAD"]).await;
        Self {
            branch,
            head_sha,
            profile: Some(profile(settings)),
        }
    }

    /// Fills what `record` does not say yet; what it says is kept, so a resume records
    /// where the run started, not where it resumed.
    pub fn fill(&self, record: &mut RunRecord) {
        for (field, value) in [
            (&mut record.branch, &self.branch),
            (&mut record.head_sha, &self.head_sha),
            (&mut record.profile, &self.profile),
        ] {
            if field.is_none() {
                field.clone_from(value);
            }
        }
    }
}

/// The model profile of a run, as [`RunOrigin::profile`] describes it.
pub fn profile(settings: &Settings) -> String {
    let mut text = "default".to_owned();
    for (stage, name) in &settings.stages {
        text.push_str(&format!(", {}={name}", stage.as_str()));
    }
    text
}

/// `git rev-parse ARGS` in `root`: its one line of output, or `None` for any failure.
async fn rev_parse(root: &Path, args: &[&str]) -> Option<String> {
    let output = ProcessBuilder::new("git")
        .arg("rev-parse")
        .args(args)
        .current_dir(root)
        .timeout(GIT_TIMEOUT)
        .run()
        .await;
    match output {
        Ok(output) if output.success() => {
            let text = output.stdout_text().trim().to_owned();
            (!text.is_empty()).then_some(text)
        }
        Ok(output) => {
            tracing::debug!(
                "git rev-parse {} in `{}`: {}",
                args.join(" "),
                root.display(),
                output.stderr_text()
            );
            None
        }
        Err(err) => {
            tracing::debug!("git rev-parse in `{}`: {err}", root.display());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::EnvOverrides;
    use crate::ids::RunId;
    use crate::run::{ResumePolicy, RunStatus};

    fn settings(toml: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("noctune.toml"), toml).unwrap();
        crate::config::load(dir.path(), &EnvOverrides::default()).unwrap()
    }

    #[test]
    fn the_profile_names_each_stage_that_has_one_of_its_own() {
        assert_eq!(profile(&settings("")), "default");
        let with_stages = settings(
            "[llm.profiles.big]\nmodel = \"qwen-32b\"\n\n[stages]\napprove = \"big\"\nreview = \"big\"\n",
        );
        assert_eq!(profile(&with_stages), "default, review=big, approve=big");
    }

    #[test]
    fn fill_keeps_what_the_run_started_with() {
        let now = jiff::Timestamp::now();
        let mut record = RunRecord {
            run_id: RunId::new("r").unwrap(),
            status: RunStatus::Starting,
            started_at: now,
            updated_at: now,
            ended_at: None,
            repo_root: PathBuf::from("/repo"),
            pack: None,
            profile: None,
            branch: Some("main".into()),
            head_sha: None,
            error: None,
            resume_policy: ResumePolicy::default(),
            command: None,
        };
        RunOrigin {
            branch: Some("feature".into()),
            head_sha: Some("abc".into()),
            profile: Some("default".into()),
        }
        .fill(&mut record);
        assert_eq!(
            (record.branch, record.head_sha, record.profile),
            (
                Some("main".into()),
                Some("abc".into()),
                Some("default".into())
            )
        );
    }
}

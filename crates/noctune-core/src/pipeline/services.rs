//! What the pipeline needs from the other crates, as traits: gates with their repair ladder
//! (`noctune-gates`) and evidence (`noctune-index`). The pipeline itself knows only these and
//! the core traits ([`LlmClient`](crate::LlmClient), [`SymbolEditor`](crate::SymbolEditor),
//! [`Approver`](crate::Approver), [`PolicyPack`](crate::PolicyPack)).

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::gate::GateReport;

/// The gates and repair ladder's verdict on a work copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Whether every gate passes on [`CheckOutcome::text`].
    pub passed: bool,
    /// The checked text: the work copy, possibly repaired.
    pub text: String,
    /// The last report of each gate.
    pub reports: Vec<GateReport>,
    /// What each repair step did (free-form, recorded as an artifact).
    #[serde(default)]
    pub steps: serde_json::Value,
}

/// Runs the gates on a changed file and, when they fail, the repair ladder.
///
/// ```
/// use std::path::Path;
/// use async_trait::async_trait;
/// use noctune_core::pipeline::{CheckOutcome, Checker};
/// use noctune_core::Result;
///
/// /// Accepts any text that ends with a newline.
/// struct NewlineChecker;
///
/// #[async_trait]
/// impl Checker for NewlineChecker {
///     async fn check(
///         &self,
///         _path: &Path,
///         _before: Option<&str>,
///         after: &str,
///     ) -> Result<CheckOutcome> {
///         Ok(CheckOutcome {
///             passed: after.ends_with('\n'),
///             text: after.to_owned(),
///             reports: vec![],
///             steps: serde_json::Value::Null,
///         })
///     }
/// }
/// ```
#[async_trait]
pub trait Checker: Send + Sync {
    /// Checks `after` (the work copy of `path`, repo-relative) against `before`: only what the
    /// change introduced blocks. With `before = None` (`noctune repair`) every finding blocks.
    async fn check(&self, path: &Path, before: Option<&str>, after: &str) -> Result<CheckOutcome>;
}

/// Evidence for the draft stage, as `impact.json` and as prompt text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceReport {
    /// The `impact.json` document.
    pub json: serde_json::Value,
    /// The same, rendered compactly for a prompt.
    pub text: String,
    /// Each target's own part of [`EvidenceReport::text`] (the file's imports and that target's
    /// evidence), by qualified name: what its edit prompt shows. A target missing here is shown
    /// the whole text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, String>,
}

/// Finds the imports of a file and the callsites of its target symbols elsewhere.
///
/// ```
/// use std::path::Path;
/// use noctune_core::pipeline::{EvidenceReport, EvidenceSource};
/// use noctune_core::Result;
///
/// /// Shows the file's import lines and no callsites.
/// struct ImportsOnly;
///
/// impl EvidenceSource for ImportsOnly {
///     fn evidence(&self, _file: &Path, source: &str, _targets: &[String], _budget: u32)
///         -> Result<EvidenceReport>
///     {
///         let imports: Vec<&str> = source
///             .lines()
///             .filter(|l| l.starts_with("import ") || l.starts_with("from "))
///             .collect();
///         Ok(EvidenceReport {
///             json: serde_json::json!({ "imports": imports }),
///             text: imports.join("\n"),
///             targets: Default::default(),
///         })
///     }
/// }
///
/// let report = ImportsOnly.evidence(Path::new("a.py"), "import os\nx = 1\n", &[], 100).unwrap();
/// assert_eq!(report.text, "import os");
/// ```
pub trait EvidenceSource: Send + Sync {
    /// Evidence for `targets` (qualified names) of `file` (repo-relative), trimmed to
    /// `budget_tokens`.
    fn evidence(
        &self,
        file: &Path,
        source: &str,
        targets: &[String],
        budget_tokens: u32,
    ) -> Result<EvidenceReport>;

    /// Brings what the evidence is drawn from up to date (an index), once the run has started
    /// (its `run.json` exists); `progress` receives a line for the user. The default does
    /// nothing.
    fn prepare(&self, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<()> {
        let _ = progress;
        Ok(())
    }

    /// `file` (repo-relative) changed on disk: Noctune applied a change to it. The default does
    /// nothing.
    fn file_changed(&self, file: &Path) -> Result<()> {
        let _ = file;
        Ok(())
    }
}

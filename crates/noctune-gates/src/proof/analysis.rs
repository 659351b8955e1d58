//! One `python3` run of `prove.py`: BEFORE and AFTER compared with CPython's own `ast`, every
//! AST-based class judged at once.

use noctune_core::process::ProcessBuilder;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::target::PythonVersion;
use crate::tools::Python3;

/// The helper script: reads `{before, after, target}` as JSON on stdin, prints an [`Analysis`].
const PROVE_SCRIPT: &str = include_str!("prove.py");

/// What `prove.py` found. Every field leans cautious: a missing field means "not shown".
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Analysis {
    /// Set when BEFORE or AFTER does not parse, or the helper cannot compare them (nested too
    /// deeply, a `python3` older than 3.10); nothing else is then filled in.
    pub parse_error: Option<String>,
    /// The shebang or the coding cookie differs (comments that change how the file runs).
    #[serde(default)]
    pub header_changed: bool,
    /// `ast.dump` of both is equal (positions ignored, `u"x"` as `"x"`).
    #[serde(default)]
    pub formatting: bool,
    /// `ast.dump` of both is equal once module, class and function docstrings are removed.
    #[serde(default)]
    pub docstrings: bool,
    /// The annotations comparison.
    #[serde(default)]
    pub annotations: AnnotationsAnalysis,
    /// The removed-imports comparison.
    #[serde(default)]
    pub imports: ImportsAnalysis,
    /// AFTER is BEFORE with some `type(x) == T` turned into `type(x) is T` (`!=` into
    /// `is not`), and nothing else changed.
    #[serde(default)]
    pub type_identity: bool,
}

/// BEFORE and AFTER with every annotation stripped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct AnnotationsAnalysis {
    /// The stripped trees are equal.
    #[serde(default)]
    pub equal_when_stripped: bool,
    /// `from __future__ import annotations` is in force in both (annotations never evaluated).
    #[serde(default)]
    pub future_annotations: bool,
    /// The annotations present on one side only (added, removed, or each side of a change).
    #[serde(default)]
    pub changed: Vec<ChangedAnnotation>,
    /// Why no annotation change in this file can be proven (it reads annotations at run time).
    #[serde(default)]
    pub refusal: Option<String>,
}

/// One annotation present on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ChangedAnnotation {
    /// `before` or `after`.
    pub side: String,
    /// `Config.load: parameter `path``.
    #[serde(rename = "where")]
    pub site: String,
    /// The annotation's source (`list[str]`).
    pub annotation: String,
    /// Why changing it is not proven safe, if it is not.
    pub refusal: Option<String>,
}

/// BEFORE and AFTER compared with one statement per imported name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ImportsAnalysis {
    /// AFTER is BEFORE with some imported names removed and nothing else changed.
    #[serde(default)]
    pub only_removed: bool,
    /// The removed names.
    #[serde(default)]
    pub removed: Vec<RemovedImport>,
}

/// One imported name that AFTER no longer imports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct RemovedImport {
    /// The import as one statement (`from os import path as p`).
    pub statement: String,
    /// The name it bound (`p`).
    pub binding: String,
    /// Where the imported name is in BEFORE: line, 1-based.
    pub line: usize,
    /// Column, 1-based, in characters.
    pub column: usize,
    /// End line.
    pub end_line: usize,
    /// End column (exclusive), 1-based, in characters.
    pub end_column: usize,
    /// Why removing it is not proven safe, if it is not.
    pub refusal: Option<String>,
}

#[derive(Serialize)]
struct Request<'a> {
    before: &'a str,
    after: &'a str,
    target: [u8; 2],
}

/// Runs `prove.py` once on BEFORE and AFTER.
pub async fn analyze(
    python: &Python3,
    before: &str,
    after: &str,
    target: PythonVersion,
) -> Result<Analysis> {
    ask(
        python,
        &Request {
            before,
            after,
            target: [target.major, target.minor],
        },
    )
    .await
}

/// One `prove.py` run: `request` as JSON on stdin, the answer as JSON on stdout. A failed run or
/// an unreadable answer is an error naming the helper.
async fn ask<T: serde::de::DeserializeOwned>(
    python: &Python3,
    request: &impl Serialize,
) -> Result<T> {
    let tool_error = |message: String| Error::Tool {
        tool: format!("{} (proof helper)", python.banner()),
        message,
    };
    let request = serde_json::to_vec(request)
        .map_err(|err| tool_error(format!("cannot encode the request: {err}")))?;
    let output = ProcessBuilder::new(python.program())
        .args(["-I", "-c", PROVE_SCRIPT])
        .stdin(request)
        .run()
        .await?;
    if !output.success() {
        return Err(tool_error(format!(
            "exit code {:?}; stderr: {}",
            output.code,
            output.stderr_text()
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|err| {
        tool_error(format!(
            "unreadable answer ({err}): {}",
            output.stdout_text()
        ))
    })
}

#[derive(Serialize)]
struct SameAsRequest<'a> {
    after: &'a str,
    candidates: &'a [String],
}

#[derive(Deserialize)]
struct SameAsAnswer {
    #[serde(default)]
    same_as: Option<usize>,
}

/// The index of the first of `candidates` that is `after` spelled differently (equal ASTs,
/// positions ignored, and the same shebang and coding cookie), from one `python3` run; `None`
/// when none is, or when AFTER does not parse.
pub async fn same_as(
    python: &Python3,
    after: &str,
    candidates: &[String],
) -> Result<Option<usize>> {
    if candidates.is_empty() {
        return Ok(None);
    }
    let answer: SameAsAnswer = ask(python, &SameAsRequest { after, candidates }).await?;
    Ok(answer.same_as.filter(|&i| i < candidates.len()))
}

#[derive(Serialize)]
struct PrintfSitesRequest<'a> {
    printf_sites: &'a str,
}

#[derive(Deserialize)]
struct PrintfSitesAnswer {
    #[serde(default)]
    sites: Vec<(usize, usize)>,
}

/// Where `text` formats with `%` in a way whose rewrite to replacement fields keeps behaviour
/// (one literal format of `%s`, `%r`, `%a` and `%%` only, and a tuple display with one element
/// per conversion or one value that is never a tuple): each site's 1-based line and character
/// column, as ruff reports a `UP031` there. Empty when `text` does not parse.
pub async fn printf_sites(python: &Python3, text: &str) -> Result<Vec<(usize, usize)>> {
    let answer: PrintfSitesAnswer = ask(python, &PrintfSitesRequest { printf_sites: text }).await?;
    Ok(answer.sites)
}

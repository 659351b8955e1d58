//! `ruff check`, run on text held in memory (`--stdin-filename`), never on a temp file.

use std::path::{Path, PathBuf};

use noctune_core::process::{ProcessBuilder, ProcessOutput};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::target::PythonVersion;

/// The rule code ruff gives syntax errors.
pub const INVALID_SYNTAX: &str = "invalid-syntax";

/// How ruff is asked to look at a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuffMode {
    /// Syntax only: `--isolated` (no user configuration) and one cheap rule, so the verdict is
    /// the parser's alone.
    SyntaxOnly,
    /// The repository's own configuration, with files it excludes left alone.
    RepoConfig,
}

/// A position as ruff's JSON writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RuffLocation {
    /// Line, 1-based.
    pub row: usize,
    /// Column, 1-based.
    pub column: usize,
}

/// One entry of `ruff check --output-format json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuffDiagnostic {
    /// The rule code (`F401`), or `invalid-syntax`.
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// Where it starts.
    pub location: Option<RuffLocation>,
    /// Where it ends.
    pub end_location: Option<RuffLocation>,
    /// The fix ruff offers, if any (kept as raw JSON).
    #[serde(default)]
    pub fix: Option<serde_json::Value>,
}

impl RuffDiagnostic {
    /// Whether this is a syntax error.
    pub fn is_syntax_error(&self) -> bool {
        self.code.as_deref() == Some(INVALID_SYNTAX)
    }

    /// As a core diagnostic (symbol and `introduced` not yet known).
    pub fn to_diagnostic(&self) -> noctune_core::Diagnostic {
        let location = |l: RuffLocation| noctune_core::Location {
            line: l.row,
            column: l.column,
        };
        noctune_core::Diagnostic {
            code: self.code.clone(),
            message: self.message.clone(),
            location: self.location.map(location),
            end_location: self.end_location.map(location),
            symbol: None,
            introduced: false,
            fixable: self.fix.is_some(),
        }
    }
}

/// The `ruff` program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruff {
    program: PathBuf,
    version: String,
}

impl Ruff {
    /// Asks `program --version`.
    pub async fn from_program(program: PathBuf) -> Result<Self> {
        let output = ProcessBuilder::new(&program).arg("--version").run().await?;
        let version = output.stdout_text().trim().to_owned();
        if !output.success() || !version.starts_with("ruff ") {
            return Err(Error::Tool {
                tool: program.display().to_string(),
                message: format!(
                    "`--version` answered {:?} (stderr: {})",
                    version,
                    output.stderr_text()
                ),
            });
        }
        Ok(Self { program, version })
    }

    /// `ruff 0.17.5`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The program's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs `ruff check` on `text` as if it were the file `path` (relative to `root`), with
    /// syntax judged against `target`.
    pub async fn check(
        &self,
        root: &Path,
        path: &Path,
        text: &str,
        target: PythonVersion,
        mode: RuffMode,
    ) -> Result<Vec<RuffDiagnostic>> {
        let mut command = ProcessBuilder::new(&self.program).current_dir(root).args([
            "check",
            "--output-format",
            "json",
            "--no-fix",
        ]);
        command = match mode {
            RuffMode::SyntaxOnly => command.args(["--isolated", "--select", "E902"]),
            RuffMode::RepoConfig => command.arg("--force-exclude"),
        };
        let output = command
            .arg("--target-version")
            .arg(target.ruff_name())
            .arg("--stdin-filename")
            .arg(path)
            .arg("-")
            .stdin(text.as_bytes())
            .run()
            .await?;
        self.diagnostics(&output)
    }

    /// Runs `ruff check` with the repository's configuration but only the rules in `select`
    /// (`--select` replaces the configuration's selection; `per-file-ignores`, `exclude` and
    /// rule settings still apply).
    pub async fn check_selected(
        &self,
        root: &Path,
        path: &Path,
        text: &str,
        target: PythonVersion,
        select: &[&str],
    ) -> Result<Vec<RuffDiagnostic>> {
        let output = self
            .on_stdin(
                root,
                &["--output-format", "json", "--no-fix"],
                select,
                target,
                path,
                text,
            )
            .run()
            .await?;
        self.diagnostics(&output)
    }

    /// `ruff check <mode> --force-exclude --select <select>` on `text` given on stdin as `path`,
    /// with the repository's configuration (run from `root`).
    fn on_stdin(
        &self,
        root: &Path,
        mode: &[&str],
        select: &[impl AsRef<str>],
        target: PythonVersion,
        path: &Path,
        text: &str,
    ) -> ProcessBuilder {
        let select: Vec<&str> = select.iter().map(AsRef::as_ref).collect();
        ProcessBuilder::new(&self.program)
            .current_dir(root)
            .arg("check")
            .args(mode)
            .arg("--force-exclude")
            .arg("--select")
            .arg(select.join(","))
            .arg("--target-version")
            .arg(target.ruff_name())
            .arg("--stdin-filename")
            .arg(path)
            .arg("-")
            .stdin(text.as_bytes())
    }

    /// The diagnostics of a `ruff check --output-format json` run (exit 0: none, 1: some).
    fn diagnostics(&self, output: &ProcessOutput) -> Result<Vec<RuffDiagnostic>> {
        if !matches!(output.code, Some(0 | 1)) {
            return Err(self.failure(output));
        }
        serde_json::from_slice(&output.stdout).map_err(|err| Error::Tool {
            tool: self.version.clone(),
            message: format!("unreadable JSON ({err}); stderr: {}", output.stderr_text()),
        })
    }

    /// Runs `ruff check --fix-only` with safe fixes only (never `--unsafe-fixes`, whatever the
    /// configuration says), restricted to the rules in `select`, and returns the fixed text.
    pub async fn fix_safe(
        &self,
        root: &Path,
        path: &Path,
        text: &str,
        target: PythonVersion,
        select: &[String],
    ) -> Result<String> {
        self.fix_only(root, path, text, target, select, "--no-unsafe-fixes")
            .await
    }

    /// Runs `ruff check --fix-only --unsafe-fixes` restricted to the rules in `select`, and
    /// returns the fixed text. Only for rules a pack lists as equivalent rewrites, with the
    /// argument why (see `proof::pack_rewrite`).
    pub async fn fix_unsafe(
        &self,
        root: &Path,
        path: &Path,
        text: &str,
        target: PythonVersion,
        select: &[String],
    ) -> Result<String> {
        self.fix_only(root, path, text, target, select, "--unsafe-fixes")
            .await
    }

    /// `ruff check --fix-only <unsafe> --exit-zero --select <select>` on `text`: the fixed text.
    async fn fix_only(
        &self,
        root: &Path,
        path: &Path,
        text: &str,
        target: PythonVersion,
        select: &[String],
        unsafe_flag: &str,
    ) -> Result<String> {
        let output = self
            .on_stdin(
                root,
                &["--fix-only", unsafe_flag, "--exit-zero"],
                select,
                target,
                path,
                text,
            )
            .run()
            .await?;
        if !output.success() {
            return Err(self.failure(&output));
        }
        String::from_utf8(output.stdout).map_err(|err| Error::Tool {
            tool: self.version.clone(),
            message: format!("`--fix-only` wrote invalid UTF-8: {err}"),
        })
    }

    fn failure(&self, output: &ProcessOutput) -> Error {
        Error::Tool {
            tool: self.version.clone(),
            message: format!(
                "exit code {:?}; stderr: {}",
                output.code,
                output.stderr_text()
            ),
        }
    }
}

/// `text` with the edits of the diagnostics' fixes applied, safe or not (ruff's rows and
/// columns are 1-based, columns in characters); `None` when a fix has no readable edits or two
/// edits overlap.
pub fn apply_fixes(text: &str, diagnostics: &[&RuffDiagnostic]) -> Option<String> {
    let offset = |at: &serde_json::Value| -> Option<usize> {
        let row = usize::try_from(at.get("row")?.as_u64()?).ok()?;
        let column = usize::try_from(at.get("column")?.as_u64()?).ok()?;
        let mut start = 0;
        for _ in 1..row {
            start += text[start..].find('\n')? + 1;
        }
        let within: usize = text[start..]
            .chars()
            .take(column.checked_sub(1)?)
            .map(char::len_utf8)
            .sum();
        Some(start + within)
    };
    let mut spans = Vec::new();
    for diagnostic in diagnostics {
        for edit in diagnostic.fix.as_ref()?.get("edits")?.as_array()? {
            let from = offset(edit.get("location")?)?;
            let to = offset(edit.get("end_location")?)?;
            let content = edit.get("content")?.as_str().unwrap_or("");
            (from <= to && to <= text.len()).then_some(())?;
            spans.push((from, to, content));
        }
    }
    spans.sort_by_key(|s| (s.0, s.1));
    if spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    let mut out = text.to_owned();
    for (from, to, content) in spans.into_iter().rev() {
        out.replace_range(from..to, content);
    }
    Some(out)
}

//! `python3`: the parse gate's fallback authority (CPython's `ast.parse`) when ruff is absent.

use std::path::{Path, PathBuf};

use noctune_core::process::{ProcessBuilder, ProcessOutput};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::target::PythonVersion;

/// Reads the source from stdin and prints `null` or the syntax error as JSON. Runs with `-I`
/// (no user site, no `PYTHON*` variables); it parses, it never executes the source.
const PARSE_SCRIPT: &str = r#"
import ast, json, sys
src = sys.stdin.buffer.read()
major, minor = (int(x) for x in sys.argv[1].split("."))
feature = (major, minor) if (major, minor) < sys.version_info[:2] else None
try:
    ast.parse(src, filename=sys.argv[2], feature_version=feature)
    print("null")
except (SyntaxError, ValueError) as e:
    print(json.dumps({
        "message": getattr(e, "msg", None) or str(e),
        "line": getattr(e, "lineno", None),
        "column": getattr(e, "offset", None),
    }))
"#;

/// A syntax error as `ast.parse` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonSyntaxError {
    /// The message (`expected ':'`).
    pub message: String,
    /// Line, 1-based.
    pub line: Option<usize>,
    /// Column, 1-based.
    pub column: Option<usize>,
}

/// The `python3` program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python3 {
    program: PathBuf,
    version: PythonVersion,
    banner: String,
}

impl Python3 {
    /// Asks `program --version`.
    pub async fn from_program(program: PathBuf) -> Result<Self> {
        let output = ProcessBuilder::new(&program).arg("--version").run().await?;
        // Python 2 printed its version on stderr.
        let banner = format!("{}{}", output.stdout_text(), output.stderr_text())
            .trim()
            .to_owned();
        let version =
            PythonVersion::from_interpreter_banner(&banner).ok_or_else(|| Error::Tool {
                tool: program.display().to_string(),
                message: format!("`--version` answered {banner:?}"),
            })?;
        Ok(Self {
            program,
            version,
            banner,
        })
    }

    /// The interpreter's language version.
    pub fn version(&self) -> PythonVersion {
        self.version
    }

    /// `Python 3.11.7`.
    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// The program's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// `ast.parse(text)`, with `feature_version = target` when the target is older than the
    /// interpreter. `None` when the text parses.
    pub async fn parse(
        &self,
        text: &str,
        target: PythonVersion,
        filename: &Path,
    ) -> Result<Option<PythonSyntaxError>> {
        let output = ProcessBuilder::new(&self.program)
            .args(["-I", "-c", PARSE_SCRIPT])
            .arg(target.to_string())
            .arg(filename)
            .stdin(text.as_bytes())
            .run()
            .await?;
        self.succeeded(&output)?;
        serde_json::from_slice(&output.stdout).map_err(|err| Error::Tool {
            tool: self.banner.clone(),
            message: format!("unreadable answer ({err}): {}", output.stdout_text()),
        })
    }

    /// An error naming this interpreter, its exit code and its stderr, when `output` is not a
    /// success.
    fn succeeded(&self, output: &ProcessOutput) -> Result<()> {
        if output.success() {
            return Ok(());
        }
        Err(Error::Tool {
            tool: self.banner.clone(),
            message: format!(
                "exit code {:?}; stderr: {}",
                output.code,
                output.stderr_text()
            ),
        })
    }

    /// The standard library's top-level module names (`sys.stdlib_module_names`).
    pub async fn stdlib_modules(&self) -> Result<std::collections::BTreeSet<String>> {
        let output = ProcessBuilder::new(&self.program)
            .args([
                "-I",
                "-c",
                "import sys; print(chr(10).join(sorted(sys.stdlib_module_names)))",
            ])
            .run()
            .await?;
        self.succeeded(&output)?;
        Ok(output
            .stdout_text()
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect())
    }
}

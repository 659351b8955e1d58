//! What is measured on a case's directory, before and after: ruff's findings, whether the case's
//! own tests pass, whether every code file parses.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use noctune_core::process::ProcessBuilder;

/// How long a case's tests may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The number of ruff findings in `dir` (its own ruff configuration applies).
pub fn findings(ruff: &Path, dir: &Path) -> anyhow::Result<usize> {
    let output = ProcessBuilder::new(ruff.as_os_str())
        // Noctune's own cache (work copies, proposals) is not the case's code.
        .args([
            "check",
            "--output-format",
            "json",
            "--exit-zero",
            "--no-cache",
        ])
        .args(["--extend-exclude", ".noctune_cache", "."])
        .current_dir(dir)
        .timeout(Duration::from_secs(120))
        .run_blocking()
        .with_context(|| format!("cannot run ruff in `{}`", dir.display()))?;
    if !output.success() {
        anyhow::bail!(
            "ruff failed in `{}`: {}",
            dir.display(),
            output.stderr_text().trim()
        );
    }
    let list: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("ruff's JSON in `{}`", dir.display()))?;
    Ok(list.len())
}

/// Applies ruff's safe fixes in `dir` (what a user gets from one `ruff check --fix`).
pub fn ruff_fix(ruff: &Path, dir: &Path) -> anyhow::Result<()> {
    let output = ProcessBuilder::new(ruff.as_os_str())
        .args(["check", "--fix", "--exit-zero", "--no-cache", "."])
        .current_dir(dir)
        .timeout(Duration::from_secs(120))
        .run_blocking()
        .with_context(|| format!("cannot run ruff --fix in `{}`", dir.display()))?;
    if !output.success() {
        anyhow::bail!(
            "ruff --fix failed in `{}`: {}",
            dir.display(),
            output.stderr_text().trim()
        );
    }
    Ok(())
}

/// Whether the case's tests pass in `dir`, with the output's last lines when they do not.
pub fn tests_pass(command: &[String], dir: &Path) -> anyhow::Result<(bool, String)> {
    let Some((program, args)) = command.split_first() else {
        anyhow::bail!("empty test_command");
    };
    let output = ProcessBuilder::new(program)
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .timeout(TEST_TIMEOUT)
        .run_blocking()
        .with_context(|| format!("cannot run the tests in `{}`", dir.display()))?;
    let text = format!("{}{}", output.stdout_text(), output.stderr_text());
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok((output.success(), tail.join("\n")))
}

/// The code files of `dir` (repo-relative) that CPython's `ast.parse` refuses.
pub fn broken(dir: &Path, files: &[String]) -> anyhow::Result<Vec<String>> {
    let script = "import ast, sys\nfor path in sys.argv[1:]:\n    try:\n        ast.parse(open(path, 'rb').read())\n    except (SyntaxError, ValueError):\n        print(path)\n";
    let output = ProcessBuilder::new("python3")
        .arg("-c")
        .arg(script)
        .args(files)
        .current_dir(dir)
        .timeout(Duration::from_secs(120))
        .run_blocking()
        .context("cannot run python3 to check that every file parses")?;
    if !output.success() {
        anyhow::bail!("the parse check failed: {}", output.stderr_text().trim());
    }
    Ok(output.stdout_text().lines().map(str::to_owned).collect())
}

//! The ripgrep search: `rg --json -w -F -a` over the walked files, run without a shell through
//! [`ProcessBuilder`]. The files are passed explicitly (in chunks, to stay far below the
//! argument-size limit), so rg searches exactly what the other backends search.

use std::collections::HashMap;
use std::path::Path;

use noctune_core::process::ProcessBuilder;
use serde::Deserialize;

use super::{Callsite, line_text};
use crate::error::{Error, Result};
use crate::walk::WalkedFile;

/// Files per `rg` invocation.
const CHUNK: usize = 2000;

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<MatchData>,
}

#[derive(Deserialize)]
struct MatchData {
    path: Option<Text>,
    lines: Option<Text>,
    line_number: Option<usize>,
    #[serde(default)]
    submatches: Vec<Submatch>,
}

#[derive(Deserialize)]
struct Text {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Submatch {
    start: usize,
}

/// Searches `files` (under `root`) for whole-word `identifier` with the `rg` at `program`.
pub(super) fn search(
    program: &Path,
    root: &Path,
    files: &[WalkedFile],
    identifier: &str,
) -> Result<Vec<Callsite>> {
    let err = |message: String| Error::Search {
        identifier: identifier.to_owned(),
        message,
    };
    let by_rel: HashMap<&str, &WalkedFile> = files.iter().map(|f| (f.rel.as_str(), f)).collect();
    let mut out = Vec::new();
    for chunk in files.chunks(CHUNK) {
        let output = ProcessBuilder::new(program)
            .args([
                "--json",
                "--no-config",
                "--word-regexp",
                "--fixed-strings",
                "--text",
                "--no-ignore",
                "--hidden",
                "--regexp",
                identifier,
                "--",
            ])
            .args(chunk.iter().map(|f| f.rel.as_str()))
            .current_dir(root)
            .run_blocking()
            .map_err(|e| err(e.to_string()))?;
        // rg exits 1 when nothing matched, 2 on errors (which may come with matches).
        if output.code == Some(2) {
            tracing::warn!(stderr = %output.stderr_text(), "rg reported errors");
        } else if !matches!(output.code, Some(0 | 1)) {
            return Err(err(format!(
                "rg exited with {:?}: {}",
                output.code,
                output.stderr_text()
            )));
        }
        for line in output.stdout.split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let message: Message =
                serde_json::from_slice(line).map_err(|e| err(format!("bad rg output: {e}")))?;
            if message.kind != "match" {
                continue;
            }
            let Some(data) = message.data else { continue };
            let Some(path) = data.path.and_then(|p| p.text) else {
                tracing::warn!("rg reported a path that is not UTF-8; skipped");
                continue;
            };
            let line_number = data.line_number.unwrap_or(0);
            let text = match data.lines.and_then(|l| l.text) {
                Some(text) => line_text(text.as_bytes()),
                // Not UTF-8: rg sends base64; take the line from the file instead.
                None => by_rel
                    .get(path.as_str())
                    .and_then(|f| std::fs::read(&f.path).ok())
                    .and_then(|bytes| {
                        bytes
                            .split(|b| *b == b'\n')
                            .nth(line_number.saturating_sub(1))
                            .map(line_text)
                    })
                    .unwrap_or_default(),
            };
            for submatch in data.submatches {
                out.push(Callsite {
                    path: path.clone(),
                    line: line_number,
                    column: submatch.start + 1,
                    text: text.clone(),
                });
            }
        }
    }
    Ok(out)
}

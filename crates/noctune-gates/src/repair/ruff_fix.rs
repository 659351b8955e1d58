//! Step (b) of the repair ladder: `ruff check --fix-only` with safe fixes only, restricted to
//! the rules of the diagnostics the change introduced, and kept only where those diagnostics
//! are (the symbols holding them): pre-existing problems elsewhere in the file stay as they
//! were, so the change does not grow.

use std::collections::BTreeSet;
use std::path::Path;

use noctune_core::{Diagnostic, SymbolEditor};
use similar::{DiffTag, TextDiff};

use crate::error::Result;
use crate::target::PythonVersion;
use crate::tools::Ruff;

/// What the step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixOutcome {
    /// The text after the kept fixes.
    pub text: String,
    /// What was fixed and what was left out.
    pub notes: Vec<String>,
}

/// Applies ruff's safe fixes for the fixable `blocking` diagnostics of `text`.
pub async fn fix(
    ruff: &Ruff,
    root: &Path,
    path: &Path,
    text: &str,
    target: PythonVersion,
    blocking: &[Diagnostic],
    editor: &dyn SymbolEditor,
) -> Result<FixOutcome> {
    let fixable: Vec<&Diagnostic> = blocking.iter().filter(|d| d.fixable).collect();
    let codes: BTreeSet<String> = fixable.iter().filter_map(|d| d.code.clone()).collect();
    if codes.is_empty() {
        return Ok(FixOutcome {
            text: text.to_owned(),
            notes: vec!["no new diagnostic has a safe fix".to_owned()],
        });
    }
    let codes: Vec<String> = codes.into_iter().collect();
    let fixed = ruff.fix_safe(root, path, text, target, &codes).await?;

    // Lines (1-based) the fixes may touch: the symbols holding the diagnostics, or the
    // diagnostics' own lines for module-level code.
    let outline = editor.outline(text).ok();
    let mut allowed: Vec<(usize, usize)> = Vec::new();
    for d in &fixable {
        let Some(location) = d.location else { continue };
        let end = d.end_location.map_or(location.line, |l| l.line);
        let range = outline
            .as_ref()
            .and_then(|o| o.symbol_at_line(location.line))
            .map_or((location.line, end), |s| (s.start_line, s.end_line));
        allowed.push(range);
    }
    let inside = |line: usize| allowed.iter().any(|(s, e)| (*s..=*e).contains(&line));

    let old: Vec<&str> = text.split_inclusive('\n').collect();
    let new: Vec<&str> = fixed.split_inclusive('\n').collect();
    let diff = TextDiff::from_slices(&old, &new);
    let mut out = String::with_capacity(fixed.len());
    let mut kept = 0;
    let mut dropped = 0;
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            out.extend(old[old_range].iter().copied());
            continue;
        }
        // 1-based lines the hunk replaces (an insertion sits after `old_range.start`).
        let touched = if old_range.is_empty() {
            inside(old_range.start) || inside(old_range.start + 1)
        } else {
            old_range.clone().any(|i| inside(i + 1))
        };
        if touched {
            out.extend(new[new_range].iter().copied());
            kept += 1;
        } else {
            out.extend(old[old_range].iter().copied());
            dropped += 1;
        }
    }
    let mut notes = vec![format!(
        "ruff --fix-only (safe) for {}: {kept} hunk(s) applied",
        codes.join(",")
    )];
    if dropped > 0 {
        notes.push(format!(
            "{dropped} hunk(s) outside the affected symbols left as they were"
        ));
    }
    Ok(FixOutcome { text: out, notes })
}

//! Step (a) of the repair ladder: deterministic clean-up of the lines the change introduced.
//!
//! Lines the change did not touch are never altered (except newline style, which is one
//! style per file). In order: newlines to the file's style; markdown fences and the prose
//! around them dropped; leading tabs or spaces to the file's indentation style; a hunk
//! indented in steps of 2, 3 or 8 re-indented to the file's unit; trailing whitespace
//! stripped; a final newline added.

use similar::{DiffTag, TextDiff};

/// The result of the heuristics: the new text and what each heuristic changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned text.
    pub text: String,
    /// One note per heuristic that changed something.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndentStyle {
    Spaces(usize),
    Tabs,
}

/// Applies the heuristics to `after`, judging file style from `before` (or from `after`
/// itself for a file without a previous version).
pub fn clean(before: Option<&str>, after: &str) -> Cleaned {
    let mut notes = Vec::new();
    let reference = before.unwrap_or(after);
    let crlf = reference.matches("\r\n").count() * 2 > reference.matches('\n').count();

    let normalized = after.replace("\r\n", "\n").replace('\r', "\n");
    let before_lf = before.map(|b| b.replace("\r\n", "\n").replace('\r', "\n"));
    let expected_newlines = if crlf {
        normalized.replace('\n', "\r\n")
    } else {
        normalized.clone()
    };
    if expected_newlines != after {
        notes.push(format!(
            "newlines normalised to {}",
            if crlf { "CRLF" } else { "LF" }
        ));
    }

    let mut lines: Vec<String> = normalized.split('\n').map(str::to_owned).collect();
    // `split` gives a last empty element for a text ending in a newline.
    let ends_with_newline = normalized.ends_with('\n');
    if ends_with_newline {
        lines.pop();
    }
    let changed = changed_hunks(before_lf.as_deref(), &lines);
    let style = indent_style(before_lf.as_deref().unwrap_or(&normalized));

    // Fences and prose.
    let mut dropped_fences = 0;
    let mut dropped_prose = 0;
    let mut keep = vec![true; lines.len()];
    for hunk in &changed {
        let fences: Vec<usize> = hunk
            .clone()
            .filter(|&i| lines[i].trim_start().starts_with("```"))
            .collect();
        let Some(&open) = fences.first() else {
            continue;
        };
        let close = fences.get(1).copied();
        for i in hunk.clone() {
            let outside = i < open || close.is_some_and(|c| i > c);
            if fences.contains(&i) {
                keep[i] = false;
                dropped_fences += 1;
            } else if outside && !lines[i].trim().is_empty() && looks_like_prose(&lines[i]) {
                keep[i] = false;
                dropped_prose += 1;
            }
        }
    }
    if dropped_fences + dropped_prose > 0 {
        notes.push(format!(
            "dropped {dropped_fences} fence line(s) and {dropped_prose} prose line(s)"
        ));
    }

    // Indentation style and unit.
    let mut retabbed = 0;
    let mut reindented = 0;
    let mut stripped = 0;
    for hunk in &changed {
        for i in hunk.clone() {
            let line = &lines[i];
            let body = line.trim_start_matches([' ', '\t']);
            let lead = &line[..line.len() - body.len()];
            let fixed_lead = match style {
                IndentStyle::Spaces(unit) if lead.contains('\t') => {
                    Some(lead.replace('\t', &" ".repeat(unit)))
                }
                IndentStyle::Tabs if lead.contains(' ') => {
                    let width: usize = lead.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum();
                    Some(format!(
                        "{}{}",
                        "\t".repeat(width / 4),
                        " ".repeat(width % 4)
                    ))
                }
                _ => None,
            };
            if let Some(fixed) = fixed_lead {
                lines[i] = format!("{fixed}{body}");
                retabbed += 1;
            }
        }
        if let IndentStyle::Spaces(unit) = style {
            reindented += rescale_hunk(&mut lines, hunk.clone(), unit);
        }
        for i in hunk.clone() {
            let trimmed = lines[i].trim_end_matches([' ', '\t']).len();
            if trimmed != lines[i].len() {
                lines[i].truncate(trimmed);
                stripped += 1;
            }
        }
    }
    if retabbed > 0 {
        notes.push(format!(
            "indentation of {retabbed} line(s) converted to the file's {}",
            match style {
                IndentStyle::Spaces(_) => "spaces",
                IndentStyle::Tabs => "tabs",
            }
        ));
    }
    if reindented > 0 {
        notes.push(format!(
            "{reindented} line(s) re-indented to the file's unit"
        ));
    }
    if stripped > 0 {
        notes.push(format!(
            "trailing whitespace stripped on {stripped} line(s)"
        ));
    }

    let kept: Vec<&str> = lines
        .iter()
        .zip(&keep)
        .filter(|(_, keep)| **keep)
        .map(|(line, _)| line.as_str())
        .collect();
    let mut text = kept.join("\n");
    let wants_newline = before.is_none_or(|b| b.ends_with('\n')) && !text.is_empty();
    if ends_with_newline || wants_newline {
        if !ends_with_newline {
            notes.push("final newline added".to_owned());
        }
        text.push('\n');
    }
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    Cleaned { text, notes }
}

/// Index ranges of `after` lines that the change inserted or replaced (all lines when there is
/// no `before`).
fn changed_hunks(before: Option<&str>, after: &[String]) -> Vec<std::ops::Range<usize>> {
    let Some(before) = before else {
        return std::iter::once(0..after.len()).collect();
    };
    let before_lines: Vec<&str> = before.lines().collect();
    let after_lines: Vec<&str> = after.iter().map(String::as_str).collect();
    let diff = TextDiff::from_slices(&before_lines, &after_lines);
    diff.ops()
        .iter()
        .filter(|op| op.tag() != DiffTag::Equal && op.tag() != DiffTag::Delete)
        .map(|op| op.new_range())
        .collect()
}

/// The file's indentation: tabs when more lines start with a tab than with spaces, else
/// spaces in the smallest common step (4 when unclear).
fn indent_style(text: &str) -> IndentStyle {
    let mut tabs = 0;
    let mut widths = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with('\t') {
            tabs += 1;
        } else {
            let width = line.len() - line.trim_start_matches(' ').len();
            if width > 0 {
                widths.push(width);
            }
        }
    }
    if tabs > widths.len() {
        return IndentStyle::Tabs;
    }
    let unit = widths.iter().copied().min().unwrap_or(4);
    if [2, 4, 8].contains(&unit) && widths.iter().all(|w| w % unit == 0) {
        IndentStyle::Spaces(unit)
    } else {
        IndentStyle::Spaces(4)
    }
}

/// Re-indents a hunk written in steps of 2, 3 or 8 to steps of `unit`, relative to the hunk's
/// smallest indentation. Returns how many lines changed.
fn rescale_hunk(lines: &mut [String], hunk: std::ops::Range<usize>, unit: usize) -> usize {
    let widths: Vec<(usize, usize)> = hunk
        .clone()
        .filter(|&i| !lines[i].trim().is_empty())
        .map(|i| (i, lines[i].len() - lines[i].trim_start_matches(' ').len()))
        .collect();
    let Some(base) = widths.iter().map(|(_, w)| *w).min() else {
        return 0;
    };
    let relative: Vec<usize> = widths.iter().map(|(_, w)| w - base).collect();
    let step = relative.iter().copied().filter(|r| *r > 0).min();
    let Some(step) = step else { return 0 };
    if step == unit || ![2, 3, 8].contains(&step) || relative.iter().any(|r| r % step != 0) {
        return 0;
    }
    // A base that fits the file's unit stays; one that does not is itself in the hunk's step.
    let absolute = base % unit != 0;
    if absolute && base % step != 0 {
        return 0;
    }
    let mut changed = 0;
    for ((i, width), rel) in widths.iter().zip(&relative) {
        let new_width = if absolute {
            width / step * unit
        } else {
            base + rel / step * unit
        };
        let body = lines[*i].trim_start_matches(' ').to_owned();
        let new = format!("{}{body}", " ".repeat(new_width));
        if new != lines[*i] {
            lines[*i] = new;
            changed += 1;
        }
    }
    changed
}

/// A line outside a fence that reads as prose rather than code ("Here is the fixed code:").
fn looks_like_prose(line: &str) -> bool {
    let trimmed = line.trim();
    let starts_upper = trimmed.chars().next().is_some_and(char::is_uppercase);
    let words = trimmed.split_whitespace().count();
    starts_upper && words >= 3 && !trimmed.starts_with('#') && !trimmed.contains(" = ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn only_changed_lines_are_cleaned() {
        let before = "def f():\n    return 1   \n\n\ndef g():\n    return 2\n";
        let after = "def f():\n    return 1   \n\n\nHere is the fixed code:\n```python\ndef g():\n\tx = 2\t\n\treturn x\n```\n";
        let cleaned = clean(Some(before), after);
        assert_eq!(
            cleaned.text,
            "def f():\n    return 1   \n\n\ndef g():\n    x = 2\n    return x\n"
        );
        assert_eq!(
            cleaned.notes,
            vec![
                "dropped 2 fence line(s) and 1 prose line(s)",
                "indentation of 2 line(s) converted to the file's spaces",
                "trailing whitespace stripped on 1 line(s)",
            ]
        );
    }

    #[test]
    fn newlines_and_two_space_hunks_follow_the_file() {
        let before = "class A:\r\n    def f(self):\r\n        return 1\r\n";
        let after = "class A:\r\n  def f(self):\n    if self:\n      return 2\n    return 1\n";
        let cleaned = clean(Some(before), after);
        assert_eq!(
            cleaned.text,
            "class A:\r\n    def f(self):\r\n        if self:\r\n            return 2\r\n        return 1\r\n"
        );
        assert_eq!(
            cleaned.notes,
            vec![
                "newlines normalised to CRLF",
                "4 line(s) re-indented to the file's unit"
            ]
        );
    }

    #[test]
    fn a_clean_change_is_left_alone() {
        let before = "x = 1\n";
        let after = "x = 2\n";
        assert_eq!(
            clean(Some(before), after),
            Cleaned {
                text: after.to_owned(),
                notes: vec![]
            }
        );
    }
}

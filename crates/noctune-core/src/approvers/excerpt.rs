//! Fitting the approve prompt's BEFORE/AFTER into the context budget.
//!
//! Whole symbols are shown when they fit. A large class whose own body changed (a class
//! attribute, say) would otherwise put thousands of lines twice into one prompt, which the
//! server must reject. Then each side is cut to its changed regions with a few lines around
//! them, the symbol's first line, and a skeleton of what is left out (the `def` and `class`
//! lines), still BEFORE and AFTER rather than a diff; as a last resort the text is cut at the
//! budget with a note.

use similar::TextDiff;

use super::llm::render_changes;
use crate::approver::SymbolChange;
use crate::llm::estimate_tokens;

/// The changes rendered for the approve prompt within `budget` tokens.
pub fn render_changes_within(changes: &[SymbolChange], budget: u32) -> String {
    let whole = render_changes(changes);
    if estimate_tokens(&whole) <= budget {
        return whole;
    }
    // Most context first; the skeleton of a very large class can cost more than its changes.
    for (context, skeleton) in [(3, true), (1, true), (3, false), (0, false)] {
        let cut: Vec<SymbolChange> = changes
            .iter()
            .map(|c| excerpt(c, context, skeleton))
            .collect();
        let text = render_changes(&cut);
        if estimate_tokens(&text) <= budget {
            return text;
        }
    }
    // Each side of each change gets an equal share, cut at whole lines.
    let sides = u32::try_from(changes.len() * 2).unwrap_or(u32::MAX).max(1);
    let frame = estimate_tokens(&render_changes(
        &changes
            .iter()
            .map(|c| SymbolChange {
                symbol: c.symbol.clone(),
                before: Some(String::new()),
                after: Some(String::new()),
            })
            .collect::<Vec<_>>(),
    ));
    let share = budget.saturating_sub(frame) / sides;
    let cut: Vec<SymbolChange> = changes
        .iter()
        .map(|c| {
            let c = excerpt(c, 0, false);
            SymbolChange {
                symbol: c.symbol,
                before: c.before.map(|t| truncate(&t, share)),
                after: c.after.map(|t| truncate(&t, share)),
            }
        })
        .collect();
    render_changes(&cut)
}

/// One change cut to its changed regions with `context` lines around each (and, with
/// `skeleton`, the definition lines of what is left out).
fn excerpt(change: &SymbolChange, context: usize, skeleton: bool) -> SymbolChange {
    let (Some(before), Some(after)) = (&change.before, &change.after) else {
        // A whole new or removed symbol has no unchanged part to leave out.
        return change.clone();
    };
    let diff = TextDiff::from_lines(before.as_str(), after.as_str());
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let mut old_keep = vec![false; old.len()];
    let mut new_keep = vec![false; new.len()];
    for group in diff.grouped_ops(context) {
        for op in group {
            for i in op.old_range() {
                old_keep[i] = true;
            }
            for i in op.new_range() {
                new_keep[i] = true;
            }
        }
    }
    SymbolChange {
        symbol: change.symbol.clone(),
        before: Some(keep_lines(&old, &mut old_keep, skeleton)),
        after: Some(keep_lines(&new, &mut new_keep, skeleton)),
    }
}

/// The kept lines, the first line always, definition lines of left-out stretches as a
/// skeleton, and a marker for each stretch left out.
fn keep_lines(lines: &[&str], keep: &mut [bool], skeleton: bool) -> String {
    if let Some(first) = keep.first_mut() {
        *first = true;
    }
    let is_header = |line: &str| {
        let t = line.trim_start();
        t.starts_with("def ")
            || t.starts_with("async def ")
            || t.starts_with("class ")
            || t.starts_with('@')
    };
    let mut out = String::new();
    let mut skipped = 0usize;
    let mut indent = String::new();
    for (line, kept) in lines.iter().zip(keep.iter()) {
        if *kept || (skeleton && is_header(line)) {
            if skipped > 0 {
                out.push_str(&format!("{indent}# ... {skipped} unchanged line(s)\n"));
                skipped = 0;
            }
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
            indent = line[..line.len() - line.trim_start().len()].to_owned();
            if line.trim_end().ends_with(':') {
                indent.push_str("    ");
            }
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        out.push_str(&format!("{indent}# ... {skipped} unchanged line(s)\n"));
    }
    out
}

/// `text` cut at whole lines to fit `budget` tokens, with a note.
fn truncate(text: &str, budget: u32) -> String {
    let note = "# ... (the rest is left out: it does not fit the context)\n";
    let room = budget.saturating_sub(estimate_tokens(note));
    let mut out = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let cost = estimate_tokens(line);
        if used + cost > room {
            break;
        }
        used += cost;
        out.push_str(line);
    }
    out.push_str(note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A class of about 3,000 lines: 600 five-line methods.
    fn big_class(limit: u32, first_method_body: &str) -> String {
        let mut text = format!("class Registry:\n    LIMIT = {limit}\n\n");
        for i in 0..600 {
            let body = if i == 0 {
                first_method_body.to_owned()
            } else {
                format!("        return self.items[{i}]\n")
            };
            text.push_str(&format!(
                "    def get_{i}(self):\n        \"\"\"Item {i}.\"\"\"\n{body}\n\n"
            ));
        }
        text
    }

    #[test]
    fn a_3000_line_class_is_cut_to_its_changes_within_the_budget() {
        let before = big_class(10, "        return self.items[0]\n");
        let after = big_class(20, "        return self.items.get(0)\n");
        assert!(before.lines().count() >= 3000);
        let change = SymbolChange {
            symbol: "Registry".into(),
            before: Some(before),
            after: Some(after),
        };
        let budget = 2000;
        let text = render_changes_within(std::slice::from_ref(&change), budget);
        assert!(
            estimate_tokens(&text) <= budget,
            "{}",
            estimate_tokens(&text)
        );
        // Both sides of both changed regions, and the class header, are shown.
        for needle in [
            "class Registry:",
            "LIMIT = 10",
            "LIMIT = 20",
            "return self.items[0]",
            "return self.items.get(0)",
            "unchanged line(s)",
        ] {
            assert!(text.contains(needle), "missing {needle:?}");
        }
    }

    #[test]
    fn small_changes_are_shown_whole() {
        let change = SymbolChange {
            symbol: "f".into(),
            before: Some("def f():\n    return 1\n".into()),
            after: Some("def f() -> int:\n    return 1\n".into()),
        };
        assert_eq!(
            render_changes_within(std::slice::from_ref(&change), 1000),
            render_changes(std::slice::from_ref(&change))
        );
    }

    #[test]
    fn a_budget_too_small_for_any_excerpt_still_fits() {
        let before = big_class(10, "        return self.items[0]\n");
        let change = SymbolChange {
            symbol: "Registry".into(),
            before: Some(before.clone()),
            after: Some(before.replace("self.items[", "self.things[")),
        };
        let text = render_changes_within(std::slice::from_ref(&change), 300);
        assert!(estimate_tokens(&text) <= 300);
        assert!(text.contains("# ... (the rest is left out: it does not fit the context)\n"));
    }
}

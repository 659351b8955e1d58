//! Diagnostics mapped to symbols, and told apart as new or already there.
//!
//! A change moves lines, so matching by line number would call every diagnostic below an
//! inserted line "new". Instead a diagnostic after the change is *existing* when the text
//! before the change had one with the same rule in the same symbol; only the surplus is
//! *introduced*. Within a (rule, symbol) group, diagnostics whose messages match (digits
//! ignored: `from line 3` moves) are paired first, so the diagnostic marked new is the one whose
//! message is new.

use std::collections::HashMap;

use noctune_core::{Diagnostic, SymbolEditor};

/// Sets [`Diagnostic::symbol`] to the qualified name of the innermost symbol holding each
/// diagnostic's first line (none for module-level code outside every symbol). An editor that
/// cannot outline the text leaves the symbols unset.
pub fn assign_symbols(editor: &dyn SymbolEditor, text: &str, diagnostics: &mut [Diagnostic]) {
    if diagnostics.is_empty() {
        return;
    }
    let outline = match editor.outline(text) {
        Ok(outline) => outline,
        Err(err) => {
            tracing::debug!(%err, "cannot outline; diagnostics keep no symbol");
            return;
        }
    };
    for diagnostic in diagnostics {
        diagnostic.symbol = diagnostic
            .location
            .and_then(|l| outline.symbol_at_line(l.line))
            .map(|s| s.name.clone());
    }
}

/// Marks each diagnostic of `after` as introduced or not by comparing with `before` by rule and
/// symbol (see the module docs).
pub fn mark_introduced(before: &[Diagnostic], after: &mut [Diagnostic]) {
    let key =
        |d: &Diagnostic| -> (Option<String>, Option<String>) { (d.code.clone(), d.symbol.clone()) };
    // Remaining unmatched `before` diagnostics, per (rule, symbol): their normalised messages.
    let mut pool: HashMap<(Option<String>, Option<String>), Vec<String>> = HashMap::new();
    for diagnostic in before {
        pool.entry(key(diagnostic))
            .or_default()
            .push(normalize_message(&diagnostic.message));
    }
    let mut matched = vec![false; after.len()];
    // Pass 1: same rule, symbol and message.
    for (index, diagnostic) in after.iter().enumerate() {
        let message = normalize_message(&diagnostic.message);
        if let Some(messages) = pool.get_mut(&key(diagnostic))
            && let Some(position) = messages.iter().position(|m| *m == message)
        {
            messages.swap_remove(position);
            matched[index] = true;
        }
    }
    // Pass 2: same rule and symbol.
    for (index, diagnostic) in after.iter().enumerate() {
        if matched[index] {
            continue;
        }
        if let Some(messages) = pool.get_mut(&key(diagnostic))
            && messages.pop().is_some()
        {
            matched[index] = true;
        }
    }
    for (diagnostic, matched) in after.iter_mut().zip(matched) {
        diagnostic.introduced = !matched;
    }
}

/// Digits replaced by `#`, so `Redefinition of unused x from line 3` matches after a move.
fn normalize_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_digits = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use noctune_core::Location;
    use pretty_assertions::assert_eq;

    fn diag(code: &str, symbol: Option<&str>, line: usize, message: &str) -> Diagnostic {
        Diagnostic {
            code: Some(code.to_owned()),
            message: message.to_owned(),
            location: Some(Location { line, column: 1 }),
            end_location: None,
            symbol: symbol.map(str::to_owned),
            introduced: false,
            fixable: false,
        }
    }

    #[test]
    fn moved_diagnostics_are_not_new_and_surplus_ones_are() {
        let before = vec![
            diag(
                "F841",
                Some("f"),
                3,
                "Local variable `x` is assigned to but never used",
            ),
            diag("E711", Some("g"), 10, "Comparison to `None`"),
            diag("F811", None, 12, "Redefinition of unused `os` from line 1"),
        ];
        let mut after = vec![
            // Same rule and symbol, 5 lines lower: existing.
            diag(
                "F841",
                Some("f"),
                8,
                "Local variable `x` is assigned to but never used",
            ),
            // A second F841 in `f` with a new name: introduced.
            diag(
                "F841",
                Some("f"),
                9,
                "Local variable `y` is assigned to but never used",
            ),
            // Same rule, other symbol: introduced.
            diag("E711", Some("h"), 20, "Comparison to `None`"),
            // The line number in the message moved: existing.
            diag("F811", None, 17, "Redefinition of unused `os` from line 2"),
        ];
        mark_introduced(&before, &mut after);
        let flags: Vec<_> = after.iter().map(|d| d.introduced).collect();
        assert_eq!(flags, vec![false, true, true, false]);
    }

    #[test]
    fn the_new_message_is_the_one_marked_even_when_it_comes_first() {
        let before = vec![diag(
            "F401",
            Some("<imports>"),
            1,
            "`os` imported but unused",
        )];
        let mut after = vec![
            diag("F401", Some("<imports>"), 1, "`re` imported but unused"),
            diag("F401", Some("<imports>"), 2, "`os` imported but unused"),
        ];
        mark_introduced(&before, &mut after);
        let flags: Vec<_> = after.iter().map(|d| d.introduced).collect();
        assert_eq!(flags, vec![true, false]);
    }

    #[test]
    fn with_nothing_before_everything_is_new() {
        let mut after = vec![diag("F401", None, 1, "x")];
        mark_introduced(&[], &mut after);
        assert!(after[0].introduced);
    }
}

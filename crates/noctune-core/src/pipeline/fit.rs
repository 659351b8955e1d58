//! Fitting a file into the context budget: when a whole file is too large for the review
//! prompt, the model gets its skeleton instead — every line of module code, class and signature,
//! with function bodies elided — and, when even that is too large, the skeleton's head.

use crate::editor::Outline;
use crate::llm::estimate_tokens;
use crate::symbol::SymbolKind;

/// The text to show for a file within `budget_tokens`, and whether anything was left out.
pub fn fit_source(source: &str, outline: &Outline, budget_tokens: u32) -> (String, bool) {
    if estimate_tokens(source) <= budget_tokens {
        return (source.to_owned(), false);
    }
    let skeleton = skeleton(source, outline);
    if estimate_tokens(&skeleton) <= budget_tokens {
        return (skeleton, true);
    }
    // Keep the head of the skeleton, whole lines only.
    let mut out = String::new();
    let note = "# ... (the rest of the file is left out: it does not fit the context)\n";
    let room = budget_tokens.saturating_sub(estimate_tokens(note));
    for line in skeleton.split_inclusive('\n') {
        if estimate_tokens(&out) + estimate_tokens(line) > room {
            break;
        }
        out.push_str(line);
    }
    out.push_str(note);
    (out, true)
}

/// The file with the body of every function and method replaced by `...  # N lines`.
pub fn skeleton(source: &str, outline: &Outline) -> String {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    // (first body line, last body line), 0-based, outermost functions first.
    let mut elided: Vec<(usize, usize)> = Vec::new();
    let mut functions: Vec<_> = outline
        .symbols
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                SymbolKind::Function
                    | SymbolKind::AsyncFunction
                    | SymbolKind::Method
                    | SymbolKind::AsyncMethod
            )
        })
        .collect();
    functions.sort_by_key(|s| (s.start_line, std::cmp::Reverse(s.end_line)));
    for symbol in functions {
        let (start, end) = (symbol.start_line - 1, symbol.end_line.min(lines.len()) - 1);
        if elided.iter().any(|(a, b)| *a <= start && end <= *b) {
            continue;
        }
        let Some(def) = (start..=end).find(|&i| {
            let t = lines[i].trim_start();
            t.starts_with("def ") || t.starts_with("async def ")
        }) else {
            continue;
        };
        let Some(signature_end) = (def..=end).find(|&i| {
            let code = lines[i].split('#').next().unwrap_or("").trim_end();
            code.ends_with(':')
        }) else {
            continue;
        };
        if signature_end < end {
            elided.push((signature_end + 1, end));
        }
    }
    elided.sort_unstable();
    let mut out = String::with_capacity(source.len() / 3);
    let mut i = 0;
    while i < lines.len() {
        if let Some(&(first, last)) = elided.iter().find(|(first, _)| *first == i) {
            let indent: String = lines[first]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            out.push_str(&format!(
                "{indent}...  # {} line(s) left out\n",
                last - first + 1
            ));
            i = last + 1;
        } else {
            out.push_str(lines[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::Symbol;

    fn symbol(name: &str, kind: SymbolKind, start_line: usize, end_line: usize) -> Symbol {
        Symbol {
            name: name.into(),
            kind,
            start_byte: 0,
            end_byte: 0,
            start_line,
            end_line,
            signature: None,
            docstring: None,
        }
    }

    const SOURCE: &str = "import os\n\nclass A:\n    x = 1\n\n    def f(self,\n          y):\n        z = y\n        return z\n\n@deco\ndef g():\n    def inner():\n        pass\n    return inner\n";

    fn outline() -> Outline {
        Outline {
            symbols: vec![
                symbol("A", SymbolKind::Class, 3, 9),
                symbol("A.f", SymbolKind::Method, 6, 9),
                symbol("g", SymbolKind::Function, 11, 15),
                symbol("g.inner", SymbolKind::Function, 13, 14),
            ],
            imports: vec![],
            has_syntax_errors: false,
        }
    }

    #[test]
    fn skeleton_keeps_signatures_and_elides_bodies() {
        assert_eq!(
            skeleton(SOURCE, &outline()),
            "import os\n\nclass A:\n    x = 1\n\n    def f(self,\n          y):\n        ...  # 2 line(s) left out\n\n@deco\ndef g():\n    ...  # 3 line(s) left out\n"
        );
    }

    #[test]
    fn small_files_are_shown_whole_and_big_ones_cut_to_the_budget() {
        assert_eq!(
            fit_source(SOURCE, &outline(), 1000),
            (SOURCE.to_owned(), false)
        );
        let (text, cut) = fit_source(SOURCE, &outline(), 20);
        assert!(cut);
        assert!(estimate_tokens(&text) <= 20, "{text}");
        assert!(text.ends_with("does not fit the context)\n"), "{text}");
    }
}

//! Acting on the work copy: the model's code for a target put in its place, an existing symbol
//! rewritten through the symbol editor, new definitions and tests added at the end of their
//! file (which may be new).

use crate::editor::{EditOp, SymbolEditor};
use crate::error::Result;
use crate::indent::dedent;
use crate::pipeline::edit_answer::answer_to_ops;

/// `current` (the file, `None` when it does not exist yet) with `symbol` rewritten from the
/// model's `answer`; `Err` says why the answer could not be used.
pub fn rewrite_symbol(
    editor: &dyn SymbolEditor,
    current: &str,
    symbol: &str,
    answer: &str,
) -> Result<std::result::Result<String, String>> {
    let outline = editor.outline(current)?;
    let Some(target) = outline.symbol(symbol) else {
        return Ok(Err(format!("the file has no symbol `{symbol}`")));
    };
    let parsed = match answer_to_ops(editor, &outline, target, answer)? {
        Ok(parsed) => parsed,
        Err(why) => return Ok(Err(why)),
    };
    let result = editor.apply_outlined(current, &outline, &parsed.ops)?;
    if let Some(refused) = result.report.refused().next() {
        return Ok(Err(format!(
            "the edit of `{}` was refused: {:?}",
            refused.target, refused.refused
        )));
    }
    Ok(Ok(result.text))
}

/// `current` with the definitions of `answer` that `wanted` accepts merged in: its imports
/// added to the import block, each such top-level function or class replacing the one of the
/// same name or, when there is none, appended at the end of the file. Any other definition in
/// the answer is left out (a model that rewrites the rest of the module from memory must not
/// replace it). A missing or empty file becomes the imports and the wanted definitions.
pub fn merge_definitions(
    editor: &dyn SymbolEditor,
    current: Option<&str>,
    answer: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<std::result::Result<String, String>> {
    let code = dedent(answer);
    let incoming = editor.outline(&code)?;
    if incoming.has_syntax_errors {
        return Ok(Err("the answer is not valid Python".to_owned()));
    }
    let definitions: Vec<_> = incoming
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && !s.name.contains('.') && wanted(&s.name))
        .collect();
    if definitions.is_empty() {
        let found: Vec<&str> = incoming
            .symbols
            .iter()
            .filter(|s| s.kind.is_definition() && !s.name.contains('.'))
            .map(|s| s.name.as_str())
            .collect();
        return Ok(Err(if found.is_empty() {
            "the answer holds no function or class".to_owned()
        } else {
            format!(
                "the answer holds none of the asked-for definitions (it has {})",
                found.join(", ")
            )
        }));
    }
    // Only the imports the kept definitions use: the rest of the answer is left out, and so
    // are its imports (`import pytest` for a `pytest.main()` that is not kept).
    let kept_code: String = definitions
        .iter()
        .map(|d| &code[d.start_byte..d.end_byte])
        .collect::<Vec<_>>()
        .join("\n");
    let imports: Vec<String> = incoming
        .imports
        .iter()
        .filter(|i| bound_names(&i.text).iter().any(|n| uses(&kept_code, n)))
        .map(|i| i.text.clone())
        .collect();
    let Some(current) = current.filter(|c| !c.trim().is_empty()) else {
        let pieces: Vec<&str> = definitions
            .iter()
            .map(|d| code[d.start_byte..d.end_byte].trim_end())
            .collect();
        let mut text = imports.join("\n");
        if !text.is_empty() {
            text.push_str("\n\n\n");
        }
        text.push_str(&pieces.join("\n\n\n"));
        text.push('\n');
        return Ok(Ok(text));
    };
    let mut text = current.to_owned();
    if !imports.is_empty() {
        let result = editor.apply(&text, &[EditOp::AddImports { imports }])?;
        text = result.text;
    }
    for definition in definitions {
        let piece = code[definition.start_byte..definition.end_byte].trim_end();
        let outline = editor.outline(&text)?;
        if outline.symbol(&definition.name).is_some() {
            let op = EditOp::ReplaceSymbol {
                symbol: definition.name.clone(),
                code: piece.to_owned(),
            };
            let result = editor.apply_outlined(&text, &outline, &[op])?;
            if let Some(refused) = result.report.refused().next() {
                return Ok(Err(format!(
                    "`{}` could not replace the existing one: {:?}",
                    definition.name, refused.refused
                )));
            }
            text = result.text;
        } else {
            text = format!("{}\n\n\n{piece}\n", text.trim_end());
        }
    }
    Ok(Ok(text))
}

/// The names an import statement binds: `import a.b` → `a`, `import a as b` → `b`,
/// `from m import a, b as c` → `a`, `c`.
fn bound_names(statement: &str) -> Vec<String> {
    let flat = statement.replace(['(', ')', '\\', '\n'], " ");
    let list = match flat.trim().strip_prefix("from ") {
        Some(rest) => rest.split_once(" import ").map_or("", |(_, names)| names),
        None => flat.trim().strip_prefix("import ").unwrap_or(""),
    };
    let from = flat.trim().starts_with("from ");
    list.split(',')
        .filter_map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.as_slice() {
                [_, "as", alias] => Some((*alias).to_owned()),
                [name] if from => Some((*name).to_owned()),
                [name] => name.split('.').next().map(str::to_owned),
                _ => None,
            }
        })
        .collect()
}

/// Whether `code` uses `name` as a whole identifier.
fn uses(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !part(before) && !part(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::editor::{EditResult, Outline};

    /// An editor that knows top-level `def`s and imports by their lines (enough for these
    /// tests; the real one is `noctune-index`'s).
    struct Lines;

    impl SymbolEditor for Lines {
        fn outline(&self, source: &str) -> Result<Outline> {
            let mut outline = Outline::default();
            let mut offset = 0;
            let lines: Vec<&str> = source.split_inclusive('\n').collect();
            let mut i = 0;
            while i < lines.len() {
                let line = lines[i];
                if let Some(rest) = line.strip_prefix("def ") {
                    let name = rest.split('(').next().unwrap_or("").to_owned();
                    let start = offset;
                    let mut end = offset + line.len();
                    let mut j = i + 1;
                    while j < lines.len()
                        && (lines[j].starts_with(' ') || lines[j].trim().is_empty())
                    {
                        if !lines[j].trim().is_empty() {
                            end = lines[..=j].iter().map(|l| l.len()).sum();
                        }
                        j += 1;
                    }
                    outline.symbols.push(crate::symbol::Symbol {
                        name,
                        kind: crate::symbol::SymbolKind::Function,
                        start_byte: start,
                        end_byte: end,
                        start_line: i + 1,
                        end_line: j,
                        signature: None,
                        docstring: None,
                    });
                } else if line.starts_with("import ") || line.starts_with("from ") {
                    outline.imports.push(crate::symbol::Import {
                        text: line.trim_end().to_owned(),
                        line: i + 1,
                        module: String::new(),
                        names: Vec::new(),
                    });
                }
                offset += line.len();
                i += 1;
            }
            Ok(outline)
        }

        fn apply(&self, source: &str, _ops: &[EditOp]) -> Result<EditResult> {
            Ok(EditResult {
                text: source.to_owned(),
                report: Default::default(),
            })
        }
    }

    #[test]
    fn imports_bind_the_names_python_binds() {
        assert_eq!(bound_names("import os.path"), ["os"]);
        assert_eq!(bound_names("import numpy as np"), ["np"]);
        assert_eq!(bound_names("from a.b import c, d as e"), ["c", "e"]);
        assert_eq!(
            bound_names("from a import (\n    b,\n    c,\n)"),
            ["b", "c"]
        );
        assert!(uses("x = np.zeros(3)", "np"));
        assert!(!uses("x = numpy_like(3)", "np"));
    }

    #[test]
    fn only_the_asked_for_definitions_are_merged() {
        let answer = "import math\nimport pytest\n\ndef double(x):\n    return math.floor(x) * 2\n\ndef render():\n    pass\n";
        let current = "def render():\n    return 'real'\n";
        let merged = merge_definitions(&Lines, Some(current), answer, &|n| n == "double")
            .unwrap()
            .unwrap();
        assert_eq!(
            merged,
            "def render():\n    return 'real'\n\n\ndef double(x):\n    return math.floor(x) * 2\n"
        );
        let new_file = merge_definitions(&Lines, None, answer, &|n| n == "double")
            .unwrap()
            .unwrap();
        assert_eq!(
            new_file,
            "import math\n\n\ndef double(x):\n    return math.floor(x) * 2\n"
        );
        let none = merge_definitions(&Lines, Some(current), answer, &|n| n == "fib").unwrap();
        assert_eq!(
            none,
            Err(
                "the answer holds none of the asked-for definitions (it has double, render)"
                    .to_owned()
            )
        );
    }
}

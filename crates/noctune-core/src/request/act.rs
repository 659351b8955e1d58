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

/// `current` with the definitions of `answer` merged in: its imports added to the import block,
/// each top-level function or class replacing the one of the same name or, when there is none,
/// appended at the end of the file. A missing or empty file becomes the answer itself.
pub fn merge_definitions(
    editor: &dyn SymbolEditor,
    current: Option<&str>,
    answer: &str,
) -> Result<std::result::Result<String, String>> {
    let code = dedent(answer);
    let incoming = editor.outline(&code)?;
    if incoming.has_syntax_errors {
        return Ok(Err("the answer is not valid Python".to_owned()));
    }
    let definitions: Vec<_> = incoming
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && !s.name.contains('.'))
        .collect();
    if definitions.is_empty() {
        return Ok(Err("the answer holds no function or class".to_owned()));
    }
    let Some(current) = current.filter(|c| !c.trim().is_empty()) else {
        let mut text = code.trim_end().to_owned();
        text.push('\n');
        return Ok(Ok(text));
    };
    let mut text = current.to_owned();
    let imports: Vec<String> = incoming.imports.iter().map(|i| i.text.clone()).collect();
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

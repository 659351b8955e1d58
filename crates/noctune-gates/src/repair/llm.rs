//! Step (c) of the repair ladder: a micro-LLM repair of only the changed symbols that hold
//! the blocking diagnostics, through [`LlmClient`] and the `repair` prompt (placeholders
//! `path`, `kind`, `symbol`, `code`, `errors`). Each fixed symbol goes back through the
//! [`SymbolEditor`], so the model never rewrites the file.

use std::collections::BTreeMap;
use std::path::Path;

use noctune_core::llm::estimate_tokens;
use noctune_core::prompts::Prompts;
use noctune_core::{ChatRequest, Diagnostic, EditOp, LlmClient, Stage, SymbolEditor};

use super::fence::extract_python;
use crate::error::Result;

/// At most this many symbols are repaired per attempt.
pub const MAX_SYMBOLS_PER_ATTEMPT: usize = 3;

/// What the step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmOutcome {
    /// The text after the repairs that applied.
    pub text: String,
    /// What was asked and what came back.
    pub notes: Vec<String>,
}

/// Everything the step needs besides the text.
pub struct LlmRepair<'a> {
    /// The model.
    pub llm: &'a dyn LlmClient,
    /// The prompts (overrides re-read at each use).
    pub prompts: &'a Prompts,
    /// Finds and replaces symbols.
    pub editor: &'a dyn SymbolEditor,
    /// The file, as shown to the model.
    pub path: &'a Path,
    /// Symbols the change touched; only these are sent (`None`: any symbol).
    pub changed: Option<&'a [String]>,
    /// The context budget the prompt must fit, in tokens.
    pub context_tokens: u32,
    /// `max_tokens` of the answer, which must hold the whole repaired symbol.
    pub max_tokens: u32,
}

/// At most this many diagnostics of one symbol are listed in a prompt.
pub const MAX_ERRORS_PER_SYMBOL: usize = 20;

/// Tokens the system message and chat template may add to a prompt.
const OVERHEAD_TOKENS: u32 = 96;

impl LlmRepair<'_> {
    /// Repairs the symbols of `text` that hold `blocking` diagnostics.
    pub async fn run(&self, text: &str, blocking: &[Diagnostic]) -> Result<LlmOutcome> {
        let outline = self.editor.outline(text)?;
        let mut by_symbol: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
        let mut unplaced = 0;
        for d in blocking {
            let symbol = d.symbol.clone().or_else(|| {
                d.location
                    .and_then(|l| outline.symbol_at_line(l.line))
                    .map(|s| s.name.clone())
            });
            match symbol {
                Some(name) if self.changed.is_none_or(|c| c.contains(&name)) => {
                    by_symbol.entry(name).or_default().push(d);
                }
                _ => unplaced += 1,
            }
        }
        let mut notes = Vec::new();
        if unplaced > 0 {
            notes.push(format!(
                "{unplaced} diagnostic(s) outside the changed symbols: not sent to the model"
            ));
        }
        let mut current = text.to_owned();
        let prompt = self.prompts.load(Stage::Repair)?;
        for (name, diagnostics) in by_symbol.into_iter().take(MAX_SYMBOLS_PER_ATTEMPT) {
            let outline = self.editor.outline(&current)?;
            let Some(symbol) = outline.symbol(&name) else {
                notes.push(format!("`{name}`: not found any more"));
                continue;
            };
            let code = symbol_code(&current, symbol.start_line, symbol.end_line);
            let listed = diagnostics.len().min(MAX_ERRORS_PER_SYMBOL);
            let mut errors: Vec<String> = diagnostics[..listed]
                .iter()
                .map(|d| {
                    let at = d
                        .location
                        .map(|l| format!("line {}, column {}: ", l.line, l.column))
                        .unwrap_or_default();
                    format!(
                        "- {at}{} {}",
                        d.code.as_deref().unwrap_or("error"),
                        d.message
                    )
                })
                .collect();
            if diagnostics.len() > listed {
                errors.push(format!("- and {} more", diagnostics.len() - listed));
            }
            let path = self.path.display().to_string();
            let rendered = prompt.render(&[
                ("path", &path),
                ("kind", symbol.kind.as_str()),
                ("symbol", &name),
                ("code", &code),
                ("errors", &errors.join("\n")),
            ])?;
            // The answer is the whole symbol again: it must fit `max_tokens`, and the prompt
            // with it must fit the context. A symbol too large for that is left as it is.
            let code_tokens = estimate_tokens(&code);
            let needed = estimate_tokens(&rendered) + self.max_tokens + OVERHEAD_TOKENS;
            if code_tokens > self.max_tokens * 9 / 10 || needed > self.context_tokens {
                notes.push(format!(
                    "`{name}`: too large to repair in one answer ({code_tokens} tokens of code; \
                     {needed} needed with the answer, {} in the context): left to a human",
                    self.context_tokens
                ));
                continue;
            }
            let mut request = ChatRequest::user(rendered).with_purpose("repair");
            request.max_tokens = Some(self.max_tokens);
            let answer = self
                .llm
                .chat(&request)
                .await
                .map_err(noctune_core::Error::from)?;
            if answer.is_truncated() {
                notes.push(format!("`{name}`: the answer was cut short; ignored"));
                continue;
            }
            let Some(fixed) = extract_python(&answer.content) else {
                notes.push(format!("`{name}`: the answer holds no python code"));
                continue;
            };
            let result = self.editor.apply(
                &current,
                &[EditOp::ReplaceSymbol {
                    symbol: name.clone(),
                    code: fixed,
                }],
            )?;
            match result.report.ops.first().and_then(|o| o.refused.as_ref()) {
                Some(reason) => notes.push(format!("`{name}`: refused by the editor: {reason}")),
                None => {
                    notes.push(format!(
                        "`{name}`: replaced with the model's repair ({} error(s) sent)",
                        errors.len()
                    ));
                    current = result.text;
                }
            }
        }
        Ok(LlmOutcome {
            text: current,
            notes,
        })
    }
}

/// The symbol's lines, dedented by its first line's indentation (methods come out at column 0,
/// as the editor expects new code). Only spaces and tabs are stripped, so no slice can split a
/// character.
fn symbol_code(text: &str, start_line: usize, end_line: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .skip(start_line.saturating_sub(1))
        .take(end_line + 1 - start_line.max(1))
        .collect();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let indent = lines
        .first()
        .map_or(0, |l| l.bytes().take_while(blank).count());
    let mut code = String::new();
    for line in lines {
        let strip = line.bytes().take(indent).take_while(blank).count();
        code.push_str(&line[strip..]);
        code.push('\n');
    }
    code
}

#[cfg(test)]
mod tests {
    use super::symbol_code;

    #[test]
    fn symbol_code_dedents_without_splitting_characters() {
        // A docstring line indented with spaces and a no-break space (two bytes in UTF-8).
        let text = "class A:\n    def m(self):\n        \"\"\"Doc\n   \u{a0}odd line\n        \"\"\"\n        return 1\n";
        assert_eq!(
            symbol_code(text, 2, 6),
            "def m(self):\n    \"\"\"Doc\n\u{a0}odd line\n    \"\"\"\n    return 1\n"
        );
    }
}

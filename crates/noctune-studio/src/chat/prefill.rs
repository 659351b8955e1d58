//! The assistant prefill for small models: when a message names a tool or a file of the
//! repository, the first answer to it is started with `<tool_call>\n{"name": "`, so a model
//! that would otherwise describe the tool (Qwen2.5-Coder 0.5B does, even after a bare
//! `<tool_call>\n`) writes the call instead. llama.cpp
//! continues a final assistant message when its chat template allows it (and then even parses
//! the continuation into native `tool_calls`); a server that refuses the prefill gets the
//! request again without it.

use crate::sandbox::{Access, Sandbox};

use super::tools::TOOL_NAMES;

/// What the first answer is started with.
pub const PREFILL: &str = "<tool_call>\n{\"name\": \"";

/// Whether `text` names a tool, or a file that exists under the allowed roots.
pub fn wants_tool(text: &str, sandbox: &Sandbox) -> bool {
    text.split(|c: char| c.is_whitespace() || "`'\"(),;:!?<>[]{}".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| !word.is_empty())
        .any(|word| {
            TOOL_NAMES.contains(&word)
                || ((word.contains('.') || word.contains('/'))
                    && sandbox
                        .resolve(word, Access::Read)
                        .is_ok_and(|found| found.path.is_file()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_tool_names_want_a_tool_other_words_do_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/stats.py"), "").unwrap();
        let sandbox = Sandbox::new(dir.path(), &[dir.path().to_path_buf()]).unwrap();
        for text in [
            "What does mean in `pkg/stats.py` do?",
            "look at pkg/stats.py.",
            "use search to find it",
        ] {
            assert!(wants_tool(text, &sandbox), "{text}");
        }
        for text in [
            "hello",
            "what is 1.5 + 2?",
            "read missing.py",
            "../etc/passwd",
            "pkg",
        ] {
            assert!(!wants_tool(text, &sandbox), "{text}");
        }
    }
}

//! Pulling the code out of a model's answer. Private stand-in until the LLM crate's lenient
//! answer parsing can be shared.

/// The first fenced block (```python, ```py or a bare ```), or the whole answer when it has
/// no fence and reads as code; `None` otherwise.
pub(crate) fn extract_python(answer: &str) -> Option<String> {
    let lines: Vec<&str> = answer.lines().collect();
    let open = lines.iter().position(|l| {
        let t = l.trim();
        t.starts_with("```") && matches!(t[3..].trim(), "" | "python" | "py" | "python3")
    });
    if let Some(open) = open {
        let body: Vec<&str> = lines[open + 1..]
            .iter()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .copied()
            .collect();
        let code = body.join("\n");
        return (!code.trim().is_empty()).then(|| format!("{}\n", code.trim_end()));
    }
    let trimmed = answer.trim();
    let code_start = ["def ", "async def ", "class ", "@"];
    code_start
        .iter()
        .any(|p| trimmed.starts_with(p))
        .then(|| format!("{trimmed}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn extracts_fenced_or_bare_code() {
        assert_eq!(
            extract_python("Sure:\n```python\ndef f():\n    return 1\n```\nDone."),
            Some("def f():\n    return 1\n".to_owned())
        );
        assert_eq!(
            extract_python("```\ndef f(): ...\n"),
            Some("def f(): ...\n".to_owned())
        );
        assert_eq!(
            extract_python("def f():\n    pass"),
            Some("def f():\n    pass\n".to_owned())
        );
        assert_eq!(extract_python("I cannot fix this."), None);
        assert_eq!(extract_python("```json\n{}\n```"), None);
    }
}

//! Tool calls written in the answer's text, as the Qwen2.5-Coder models (and others without
//! native tool calling) do: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
//! (closed or not, inside a code fence or not), or a bare JSON object naming a known tool.
//! The parser is lenient about the wrapping and strict about the result: what it cannot read
//! becomes a [`Malformed`] call that the loop answers with an error the model can correct.

use serde_json::Value;

/// A call found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextCall {
    /// The tool's name.
    pub name: String,
    /// The arguments (an object; a JSON string holding an object is unwrapped).
    pub arguments: Value,
}

/// Something that looked like a call and could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// The text as the model wrote it (shortened).
    pub raw: String,
    /// What is wrong.
    pub error: String,
}

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

/// The calls in `text`, in order. Bare objects count only when their `name` is one of
/// `known` (so an example JSON in an explanation is not run).
pub fn parse(text: &str, known: &[&str]) -> Vec<Result<TextCall, Malformed>> {
    if text.contains(OPEN) {
        return tagged(text);
    }
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let candidate = &rest[start..];
        match balanced_object(candidate) {
            Some(end) => {
                if let Ok(value) = serde_json::from_str::<Value>(&candidate[..end])
                    && let Ok(call) = call_of(value)
                    && known.contains(&call.name.as_str())
                {
                    calls.push(Ok(call));
                }
                rest = &candidate[end..];
            }
            None => break,
        }
    }
    calls
}

fn tagged(text: &str) -> Vec<Result<TextCall, Malformed>> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let (inner, next) = match after.find(CLOSE) {
            Some(end) => (&after[..end], &after[end + CLOSE.len()..]),
            None => (after, ""),
        };
        calls.push(read_inner(inner));
        rest = next;
    }
    calls
}

fn read_inner(inner: &str) -> Result<TextCall, Malformed> {
    let malformed = |error: String| Malformed {
        raw: inner.trim().chars().take(400).collect(),
        error,
    };
    let Some(start) = inner.find('{') else {
        return Err(malformed("no JSON object inside <tool_call>".to_owned()));
    };
    let candidate = &inner[start..];
    let Some(end) = balanced_object(candidate) else {
        return Err(malformed("the JSON object is not closed".to_owned()));
    };
    let value: Value = serde_json::from_str(&candidate[..end])
        .map_err(|err| malformed(format!("invalid JSON: {err}")))?;
    call_of(value).map_err(malformed)
}

/// `{"name": "...", "arguments": {...}}` (or `parameters`), arguments possibly a JSON string.
fn call_of(value: Value) -> Result<TextCall, String> {
    let Value::Object(mut object) = value else {
        return Err("expected a JSON object".to_owned());
    };
    let name = match object.remove("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => return Err("expected a string field `name`".to_owned()),
    };
    let arguments = object
        .remove("arguments")
        .or_else(|| object.remove("parameters"))
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let arguments = match arguments {
        Value::String(text) => serde_json::from_str(&text).map_err(|err| {
            format!("`arguments` of `{name}` is a string that is not JSON: {err}")
        })?,
        other => other,
    };
    if !arguments.is_object() {
        return Err(format!("`arguments` of `{name}` must be a JSON object"));
    }
    Ok(TextCall { name, arguments })
}

/// The length of the JSON object at the start of `text` (which starts with `{`), braces
/// counted outside strings; `None` when it is not closed.
fn balanced_object(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    const KNOWN: &[&str] = &["read_file", "search"];

    fn ok(name: &str, arguments: Value) -> Result<TextCall, Malformed> {
        Ok(TextCall {
            name: name.to_owned(),
            arguments,
        })
    }

    #[test]
    fn tagged_calls_closed_unclosed_fenced_and_stringified() {
        let text = "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.py\"}}\n</tool_call>\n<tool_call>```json\n{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"x}\\\"}\"}\n```";
        assert_eq!(
            parse(text, KNOWN),
            vec![
                ok("read_file", json!({"path": "a.py"})),
                ok("search", json!({"query": "x}"})),
            ]
        );
    }

    #[test]
    fn tagged_calls_that_cannot_be_read_are_malformed_not_dropped() {
        let calls = parse(
            "<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": }}</tool_call><tool_call>{\"name\": \"a\"</tool_call><tool_call>read it</tool_call><tool_call>{\"arguments\": {}}</tool_call><tool_call>{\"name\": \"x\", \"arguments\": [1]}</tool_call>",
            KNOWN,
        );
        let errors: Vec<String> = calls.into_iter().map(|c| c.unwrap_err().error).collect();
        assert!(errors[0].starts_with("invalid JSON"), "{errors:?}");
        assert_eq!(errors[1], "the JSON object is not closed");
        assert_eq!(errors[2], "no JSON object inside <tool_call>");
        assert_eq!(errors[3], "expected a string field `name`");
        assert_eq!(errors[4], "`arguments` of `x` must be a JSON object");
    }

    #[test]
    fn bare_objects_count_only_with_a_known_name() {
        let text = "```json\n{\"name\": \"read_file\", \"parameters\": {\"path\": \"b.py\", \"start\": 3}}\n```\nfor example {\"name\": \"rm\", \"arguments\": {}} or {\"a\": 1}";
        assert_eq!(
            parse(text, KNOWN),
            vec![ok("read_file", json!({"path": "b.py", "start": 3}))]
        );
        assert_eq!(parse("no calls here { unclosed", KNOWN), vec![]);
    }
}

//! One JSON value out of a free-text answer.

use serde_json::Value;

use super::AnswerError;

/// How many cut points a truncated answer is tried at before giving up.
const MAX_CUTS: usize = 64;

/// Parses the JSON object or array in `text`, repairing what small models get wrong.
///
/// In order: the whole text as JSON; each fenced block (```` ```json ````); the first
/// balanced `{...}` / `[...]` with prose around it ignored. A candidate that does not parse is
/// repaired: trailing commas dropped, single-quoted strings and keys turned into JSON strings,
/// Python's `True`/`False`/`None` turned into JSON, and a truncated tail (an answer cut by
/// `max_tokens`) closed at the last complete element.
///
/// ```
/// use noctune_core::answer::extract_json;
/// let answer = "Here is the JSON:\n```json\n{'label': 'W', 'items': [1, 2,],}\n```";
/// let value = extract_json(answer).unwrap();
/// assert_eq!(value, serde_json::json!({"label": "W", "items": [1, 2]}));
/// ```
pub fn extract_json(text: &str) -> Result<Value, AnswerError> {
    let trimmed = text.trim().trim_start_matches('\u{feff}');
    if let Ok(value) = serde_json::from_str::<Value>(trimmed)
        && (value.is_object() || value.is_array())
    {
        return Ok(value);
    }
    let mut candidates: Vec<&str> = fenced_blocks(trimmed);
    if let Some(start) = trimmed.find(['{', '[']) {
        candidates.push(&trimmed[start..]);
    }
    if candidates.is_empty() {
        return Err(AnswerError::NoJson);
    }
    let mut first_error = None;
    for candidate in candidates {
        let candidate = candidate.trim();
        let Some(start) = candidate.find(['{', '[']) else {
            continue;
        };
        match repair(&candidate[start..]) {
            Ok(value) => return Ok(value),
            Err(message) => {
                first_error.get_or_insert(message);
            }
        }
    }
    Err(match first_error {
        Some(message) => AnswerError::InvalidJson { message },
        None => AnswerError::NoJson,
    })
}

/// Bodies of fenced blocks, tagged `json` (or untagged) first.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let Some(line_end) = after.find('\n') else {
            break;
        };
        let info = after[..line_end].trim();
        let body_start = &after[line_end + 1..];
        let (body, next) = match body_start.find("```") {
            Some(close) => (&body_start[..close], &body_start[close + 3..]),
            None => (body_start, ""),
        };
        if info.is_empty()
            || info.eq_ignore_ascii_case("json")
            || info.eq_ignore_ascii_case("jsonc")
        {
            blocks.push(body);
        }
        rest = next;
    }
    blocks
}

/// A cut point inside a truncated answer: where the output was, and which brackets were open.
struct Cut {
    len: usize,
    stack: Vec<char>,
}

/// Normalises one candidate that starts with `{` or `[` and parses it.
fn repair(candidate: &str) -> Result<Value, String> {
    let mut out = String::with_capacity(candidate.len() + 8);
    let mut stack: Vec<char> = Vec::new();
    let mut cuts: Vec<Cut> = Vec::new();
    let mut chars = candidate.chars().peekable();
    let mut in_string: Option<char> = None;
    let mut finished = false;

    while let Some(c) = chars.next() {
        if let Some(quote) = in_string {
            match c {
                '\\' => {
                    match chars.next() {
                        // `\'` is not a JSON escape: a single quote needs none.
                        Some('\'') => out.push('\''),
                        Some(next) => {
                            out.push('\\');
                            out.push(next);
                        }
                        None => {}
                    }
                    continue;
                }
                c if c == quote => {
                    out.push('"');
                    in_string = None;
                }
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                in_string = Some(c);
                out.push('"');
            }
            '{' | '[' => {
                stack.push(if c == '{' { '}' } else { ']' });
                out.push(c);
            }
            '}' | ']' => {
                drop_trailing_comma(&mut out);
                if stack.last() == Some(&c) {
                    stack.pop();
                }
                out.push(c);
                if stack.is_empty() {
                    finished = true;
                    break;
                }
            }
            ',' => {
                cuts.push(Cut {
                    len: out.len(),
                    stack: stack.clone(),
                });
                out.push(c);
            }
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        word.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                match word.as_str() {
                    "True" => out.push_str("true"),
                    "False" => out.push_str("false"),
                    "None" => out.push_str("null"),
                    _ if chars.peek().is_some_and(|next| *next == ':')
                        || next_non_space_is_colon(&chars) =>
                    {
                        // An unquoted key.
                        out.push('"');
                        out.push_str(&word);
                        out.push('"');
                    }
                    _ => out.push_str(&word),
                }
            }
            c => out.push(c),
        }
    }

    if finished {
        return serde_json::from_str(&out).map_err(|err| err.to_string());
    }

    // Truncated: close what is open, else cut back to the last complete element.
    let mut closed = out.clone();
    if in_string.is_some() {
        closed.push('"');
    }
    close(&mut closed, &stack);
    let first = match serde_json::from_str(&closed) {
        Ok(value) => return Ok(value),
        Err(err) => err.to_string(),
    };
    for cut in cuts.iter().rev().take(MAX_CUTS) {
        let mut attempt = out[..cut.len].to_owned();
        close(&mut attempt, &cut.stack);
        if let Ok(value) = serde_json::from_str(&attempt) {
            return Ok(value);
        }
    }
    Err(first)
}

fn next_non_space_is_colon(chars: &std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    chars
        .clone()
        .find(|c| !c.is_whitespace())
        .is_some_and(|c| c == ':')
}

fn drop_trailing_comma(out: &mut String) {
    let kept = out.trim_end().len();
    if out[..kept].ends_with(',') {
        out.truncate(kept - 1);
    }
}

fn close(out: &mut String, stack: &[char]) {
    let kept = out.trim_end().len();
    out.truncate(kept);
    if out.ends_with(':') {
        out.push_str("null");
    }
    drop_trailing_comma(out);
    for closer in stack.iter().rev() {
        out.push(*closer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn ok(text: &str) -> Value {
        extract_json(text).unwrap()
    }

    #[test]
    fn plain_json() {
        assert_eq!(ok(r#"{"a": 1}"#), json!({"a": 1}));
        assert_eq!(ok("[1, 2]"), json!([1, 2]));
    }

    #[test]
    fn fences_and_prose() {
        assert_eq!(
            ok("Sure.\n```json\n{\"label\": \"N\"}\n```\nHope it helps."),
            json!({"label": "N"})
        );
        assert_eq!(
            ok("The answer is {\"risk\": 0.2, \"ok\": true} as requested."),
            json!({"risk": 0.2, "ok": true})
        );
        assert_eq!(ok("```\n[\"x\"]\n```"), json!(["x"]));
    }

    #[test]
    fn trailing_commas_single_quotes_python_literals() {
        assert_eq!(
            ok("{'a': 'it\\'s', 'b': [1, 2,], 'c': True, 'd': None,}"),
            json!({"a": "it's", "b": [1, 2], "c": true, "d": null})
        );
        assert_eq!(
            ok("{'say': 'he said \"hi\"'}"),
            json!({"say": "he said \"hi\""})
        );
    }

    #[test]
    fn unquoted_keys() {
        assert_eq!(ok("{label: \"W\", n : 2}"), json!({"label": "W", "n": 2}));
    }

    #[test]
    fn braces_inside_strings_do_not_count() {
        assert_eq!(
            ok("x {\"code\": \"def f(): return {1: [2]}\"} y"),
            json!({"code": "def f(): return {1: [2]}"})
        );
    }

    #[test]
    fn truncated_tail() {
        assert_eq!(
            ok("{\"targets\": [{\"symbol\": \"f\", \"why\": \"slow\"}, {\"symbol\": \"g\", \"wh"),
            json!({"targets": [{"symbol": "f", "why": "slow"}, {"symbol": "g"}]})
        );
        assert_eq!(ok("{\"a\": \"unterminated"), json!({"a": "unterminated"}));
        assert_eq!(ok("{\"a\": 1, \"b\":"), json!({"a": 1, "b": null}));
        assert_eq!(ok("[1, 2, 3"), json!([1, 2, 3]));
    }

    #[test]
    fn no_json() {
        assert_eq!(extract_json("no braces here"), Err(AnswerError::NoJson));
        assert!(matches!(
            extract_json("{\"a\" 1 2 3}"),
            Err(AnswerError::InvalidJson { .. })
        ));
    }
}

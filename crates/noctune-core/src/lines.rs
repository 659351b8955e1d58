//! A light Python line scanner: for each line, whether it starts inside a string literal or a
//! bracket, whether it is blank or a comment. The editor needs it to re-indent code without
//! touching the inside of multi-line strings, whatever the indentation of the snippet (a method
//! copied out of its class does not parse on its own, so tree-sitter cannot tell us this); a
//! plan's window of lines ends where a statement does.

/// What the start of one line is, for re-indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Only whitespace.
    Blank,
    /// A comment line (first non-blank character `#`, outside any string).
    Comment,
    /// The line starts inside a string literal: its bytes are string content.
    InString,
    /// The line continues a statement (inside brackets or after a backslash).
    Continuation,
    /// The line starts a logical line of code.
    Code,
}

#[derive(Debug, Clone, Copy)]
enum Context {
    /// Code, with the bracket depth inside this context.
    Code { depth: u32 },
    /// A string literal.
    Str {
        quote: u8,
        triple: bool,
        fstring: bool,
    },
}

/// Classifies every line of `text` (split on `\n`; a `\r` before it is part of the line).
pub fn classify(text: &str) -> Vec<LineKind> {
    let bytes = text.as_bytes();
    let mut kinds = Vec::with_capacity(bytes.len() / 32 + 1);
    let mut stack: Vec<Context> = vec![Context::Code { depth: 0 }];
    let mut backslash = false;
    let mut i = 0;
    let mut line_start = true;
    while i <= bytes.len() {
        if line_start {
            line_start = false;
            kinds.push(line_kind(bytes, i, &stack, backslash));
            backslash = false;
        }
        if i == bytes.len() {
            break;
        }
        let b = bytes[i];
        let top = stack.last().copied().unwrap_or(Context::Code { depth: 0 });
        match top {
            Context::Str {
                quote,
                triple,
                fstring,
            } => {
                if b == b'\\' {
                    // Skip the escaped byte; an escaped newline still starts a new line.
                    if bytes.get(i + 1) == Some(&b'\n') {
                        line_start = true;
                    }
                    i += 2;
                    continue;
                }
                if b == b'\n' {
                    if !triple {
                        // An unterminated one-line string: Python stops it here.
                        stack.pop();
                    }
                    line_start = true;
                } else if fstring && b == b'{' {
                    if bytes.get(i + 1) == Some(&b'{') {
                        i += 2;
                        continue;
                    }
                    stack.push(Context::Code { depth: 0 });
                } else if b == quote {
                    if !triple {
                        stack.pop();
                    } else if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                        stack.pop();
                        i += 3;
                        continue;
                    }
                }
                i += 1;
            }
            Context::Code { depth } => {
                let in_fexpr = stack.len() > 1;
                match b {
                    b'#' => {
                        while i < bytes.len() && bytes[i] != b'\n' {
                            i += 1;
                        }
                        continue;
                    }
                    b'\n' => {
                        line_start = true;
                    }
                    b'\\' if bytes.get(i + 1) == Some(&b'\n') => {
                        backslash = true;
                        line_start = true;
                        i += 2;
                        continue;
                    }
                    b'\\'
                        if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') =>
                    {
                        backslash = true;
                        line_start = true;
                        i += 3;
                        continue;
                    }
                    b'(' | b'[' | b'{' => set_depth(&mut stack, depth + 1),
                    b')' | b']' => set_depth(&mut stack, depth.saturating_sub(1)),
                    b'}' => {
                        if depth == 0 && in_fexpr {
                            stack.pop();
                        } else {
                            set_depth(&mut stack, depth.saturating_sub(1));
                        }
                    }
                    b'\'' | b'"' => {
                        let fstring = string_prefix_is_f(bytes, i);
                        let triple = bytes.get(i + 1) == Some(&b) && bytes.get(i + 2) == Some(&b);
                        stack.push(Context::Str {
                            quote: b,
                            triple,
                            fstring,
                        });
                        i += if triple { 3 } else { 1 };
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    kinds
}

fn set_depth(stack: &mut [Context], new_depth: u32) {
    if let Some(Context::Code { depth }) = stack.last_mut() {
        *depth = new_depth;
    }
}

fn line_kind(bytes: &[u8], start: usize, stack: &[Context], backslash: bool) -> LineKind {
    match stack.last() {
        Some(Context::Str { .. }) => return LineKind::InString,
        Some(Context::Code { depth }) if *depth > 0 || stack.len() > 1 => {
            return LineKind::Continuation;
        }
        _ => {}
    }
    if backslash {
        return LineKind::Continuation;
    }
    let rest = &bytes[start..];
    let first = rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))
        .map(|p| rest[p]);
    match first {
        None | Some(b'\n') | Some(b'\r') => LineKind::Blank,
        Some(b'#') => LineKind::Comment,
        Some(_) => LineKind::Code,
    }
}

/// Whether the quote at `i` opens an f-string (or t-string): a prefix of letters among
/// `rbuft` right before it, itself not preceded by an identifier character.
fn string_prefix_is_f(bytes: &[u8], i: usize) -> bool {
    let mut start = i;
    while start > 0 && i - start < 3 && bytes[start - 1].is_ascii_alphabetic() {
        start -= 1;
    }
    let prefix = &bytes[start..i];
    if prefix.is_empty() {
        return false;
    }
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return false;
    }
    if !prefix
        .iter()
        .all(|b| matches!(b.to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f' | b't'))
    {
        return false;
    }
    prefix
        .iter()
        .any(|b| matches!(b.to_ascii_lowercase(), b'f' | b't'))
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::LineKind::*;
    use super::*;

    #[test]
    fn strings_brackets_comments() {
        let text = "def f(a,\n      b):\n    x = \"\"\"\nbody\n  \"\"\"\n\n    # c\n    y = 1 + \\\n  2\n    return f'{a!r:{b}}' + 'it''s'\n";
        assert_eq!(
            classify(text),
            vec![
                Code,
                Continuation,
                Code,
                InString,
                InString,
                Blank,
                Comment,
                Code,
                Continuation,
                Code,
                Blank
            ]
        );
    }

    #[test]
    fn escaped_quotes_and_prefixes() {
        let text = "a = r'\\''\nb = rb\"\"\"x\n\"\"\"\nc = '#'\nd = 1\n";
        assert_eq!(
            classify(text),
            vec![Code, Code, InString, Code, Code, Blank]
        );
    }

    #[test]
    fn fstring_nested_strings() {
        let text = "x = f\"{d['k']}\" + f'''\n{y}\n'''\nz = 1";
        assert_eq!(classify(text), vec![Code, InString, InString, Code]);
    }
}

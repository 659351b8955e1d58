//! Annotations a small model adds to a signature nobody asked it to annotate.
//!
//! Asked to fix `if x == None:` in a method, the 0.5B often returns the fix with `total: int`
//! and `-> bool` added to the `def` line. The fix alone is a rewrite a proof keeps; with the
//! annotations it is not (and they may be wrong). When a target's plan asks for no annotation
//! (a plan made from lint findings that are not about annotations), the annotations the answer
//! adds to parameters and a return that had none are dropped before the edit is applied, in
//! place (the answer's layout is kept), and a note says so. A signature that changed in any
//! other way (a parameter renamed, added or removed) is left as the model wrote it: the gates
//! and the approver judge it.
//!
//! Where annotations were asked for, the proven part (`proven_part`) uses the same cut to try
//! an edit without the return annotation it adds, or without its parameters' ones: the proof
//! refuses an annotation that contradicts the code, and the others can still be kept.

/// `new` with the annotations it adds to `old`'s `def` header removed, or `None` when it adds
/// none or the two headers do not have the same parameters.
pub fn drop_unasked_annotations(old: &str, new: &str) -> Option<String> {
    drop_added_annotations(old, new, Added::All)
}

/// Which of the annotations an answer adds to a signature to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Every one.
    All,
    /// The return annotation only (`-> str` on a function that can return None).
    Return,
    /// The parameters' only (`x: int = None`).
    Parameters,
}

/// `new` with the annotations of kind `which` that it adds to `old`'s `def` header removed, or
/// `None` when it adds none of them or the two headers do not have the same parameters.
pub fn drop_added_annotations(old: &str, new: &str, which: Added) -> Option<String> {
    let before = Header::find(old)?;
    let after = Header::find(new)?;
    if before.params.len() != after.params.len()
        || before
            .params
            .iter()
            .zip(&after.params)
            .any(|(b, a)| b.name != a.name)
    {
        return None;
    }
    // Byte ranges of `new` to replace, with what replaces them.
    let mut cuts: Vec<(usize, usize, &str)> = Vec::new();
    for (b, a) in before.params.iter().zip(&after.params) {
        if which != Added::Return
            && b.annotation.is_none()
            && let Some((from, to)) = a.annotation
        {
            // `x: T = v` → `x=v`; `x: T` → `x`.
            let replacement = if a.has_default { "=" } else { "" };
            cuts.push((from, to, replacement));
        }
    }
    if which != Added::Parameters
        && before.returns.is_none()
        && let Some((from, to)) = after.returns
    {
        cuts.push((from, to, ""));
    }
    if cuts.is_empty() {
        return None;
    }
    let mut text = new.to_owned();
    cuts.sort_by_key(|&(from, _, _)| std::cmp::Reverse(from));
    for (from, to, replacement) in cuts {
        text.replace_range(from..to, replacement);
    }
    Some(text)
}

/// One parameter of a `def` header.
#[derive(Debug)]
struct Param {
    /// Its name, with `*`/`**` (`*args`), or `/` and `*` for the markers.
    name: String,
    /// The byte range to cut to remove its annotation: from the `:` to the start of the
    /// default's value (after `=`), or to the annotation's end.
    annotation: Option<(usize, usize)>,
    has_default: bool,
}

/// The parameters and the return annotation of the first `def` in a symbol's code.
#[derive(Debug)]
struct Header {
    params: Vec<Param>,
    /// The byte range of ` -> T` (from the end of `)` to the header's `:`, trailing space kept
    /// out).
    returns: Option<(usize, usize)>,
}

impl Header {
    fn find(code: &str) -> Option<Self> {
        let def = code
            .match_indices("def ")
            .map(|(at, _)| at)
            .find(|&at| at == 0 || matches!(code.as_bytes()[at - 1], b'\n' | b' ' | b'\t'))?;
        let open = def + code[def..].find('(')?;
        let close = find_top_level(code, open + 1, code.len(), b')')?;
        let mut params = Vec::new();
        for (from, to) in split_top_level(code, open + 1, close, b',') {
            let text = &code[from..to];
            if text.trim().is_empty() {
                continue;
            }
            params.push(param(code, from, to)?);
        }
        // After `)`: optional `-> T`, then `:` at depth 0.
        let colon = find_top_level(code, close + 1, code.len(), b':')?;
        let tail = &code[close + 1..colon];
        let returns = tail.find("->").map(|arrow| {
            let start = close + 1 + tail[..arrow].trim_end().len();
            let end = close + 1 + tail.trim_end().len();
            (start, end)
        });
        Some(Header { params, returns })
    }
}

/// A parameter in `code[from..to]`.
fn param(code: &str, from: usize, to: usize) -> Option<Param> {
    let text = &code[from..to];
    let lead = text.len() - text.trim_start().len();
    let start = from + lead;
    let name_end = code[start..to]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*' || c == '/'))
        .map_or(to, |i| start + i);
    let name = code[start..name_end].to_owned();
    if name.is_empty() {
        return None;
    }
    let equals = find_top_level(code, name_end, to, b'=');
    let colon = find_top_level(code, name_end, equals.unwrap_or(to), b':');
    let annotation = colon.map(|colon| match equals {
        Some(eq) => {
            let value = eq + 1 + (code[eq + 1..to].len() - code[eq + 1..to].trim_start().len());
            (code[..colon].trim_end().len(), value)
        }
        None => (
            code[..colon].trim_end().len(),
            from + code[from..to].trim_end().len(),
        ),
    });
    Some(Param {
        name,
        annotation,
        has_default: equals.is_some(),
    })
}

/// The first `byte` in `code[from..to]` outside strings and brackets.
fn find_top_level(code: &str, from: usize, to: usize, byte: u8) -> Option<usize> {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    let mut at = from;
    while at < to {
        let b = bytes[at];
        if depth == 0 && b == byte {
            // `==`, `<=`, `>=`, `!=` are not a default's `=`; `:=` is not an annotation.
            let next = bytes.get(at + 1).copied();
            let prev = at.checked_sub(1).map(|i| bytes[i]);
            let compound = byte == b'='
                && (next == Some(b'=') || matches!(prev, Some(b'=' | b'<' | b'>' | b'!' | b':')));
            let walrus = byte == b':' && next == Some(b'=');
            if !compound && !walrus {
                return Some(at);
            }
        }
        match b {
            b'"' | b'\'' => at = skip_string(bytes, at)?,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    None
}

/// The top-level pieces of `code[from..to]` separated by `sep`.
fn split_top_level(code: &str, from: usize, to: usize, sep: u8) -> Vec<(usize, usize)> {
    let mut pieces = Vec::new();
    let mut start = from;
    while let Some(at) = find_top_level(code, start, to, sep) {
        pieces.push((start, at));
        start = at + 1;
    }
    pieces.push((start, to));
    pieces
}

/// The index of the last quote of the string starting at `at` (single or triple quoted).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let quote = bytes[at];
    let triple = bytes.get(at..at + 3) == Some(&[quote, quote, quote][..]);
    let mut i = at + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b if b == quote => {
                if !triple {
                    return Some(i);
                }
                if bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                    return Some(i + 2);
                }
            }
            b'\n' if !triple => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_parameter_and_return_annotations_are_dropped() {
        let old = "def applies(self, total):\n    if self.min_total == None:\n        return True\n    return False";
        let new = "def applies(self, total: int) -> bool:\n    if self.min_total is None:\n        return True\n    return False";
        assert_eq!(
            drop_unasked_annotations(old, new).as_deref(),
            Some(
                "def applies(self, total):\n    if self.min_total is None:\n        return True\n    return False"
            )
        );
    }

    #[test]
    fn defaults_keep_their_value_and_existing_annotations_stay() {
        let old = "def f(a, b: str, c=\"x:y\", *args, key=lambda v: v, **kw):\n    return a";
        let new = "def f(a: int, b: str, c: str = \"x:y\", *args: int, key: Callable = lambda v: v, **kw: Any) -> int:\n    return a";
        assert_eq!(
            drop_unasked_annotations(old, new).as_deref(),
            Some("def f(a, b: str, c=\"x:y\", *args, key=lambda v: v, **kw):\n    return a")
        );
    }

    #[test]
    fn a_multi_line_signature_keeps_its_layout_and_decorators() {
        let old = "@cache\ndef area(\n    width,\n    height=1,\n):\n    return width * height";
        let new = "@cache\ndef area(\n    width: float,\n    height: float = 1,\n) -> float:\n    return width * height";
        assert_eq!(
            drop_unasked_annotations(old, new).as_deref(),
            Some("@cache\ndef area(\n    width,\n    height=1,\n):\n    return width * height")
        );
    }

    #[test]
    fn the_return_or_the_parameters_alone_can_be_dropped() {
        let old = "def describe(unit, scale=None):\n    return None";
        let new = "def describe(unit: str, scale: int = None) -> str:\n    return None";
        assert_eq!(
            drop_added_annotations(old, new, Added::Return).as_deref(),
            Some("def describe(unit: str, scale: int = None):\n    return None")
        );
        assert_eq!(
            drop_added_annotations(old, new, Added::Parameters).as_deref(),
            Some("def describe(unit, scale=None) -> str:\n    return None")
        );
        // Nothing of that kind added.
        let returns_only = "def describe(unit, scale=None) -> str:\n    return None";
        assert_eq!(
            drop_added_annotations(old, returns_only, Added::Parameters),
            None
        );
    }

    #[test]
    fn other_signature_changes_and_unannotated_answers_are_left_alone() {
        let old = "def f(a, b):\n    return a";
        // A parameter renamed, added or removed: not ours to undo.
        assert_eq!(
            drop_unasked_annotations(old, "def f(a: int, c):\n    return a"),
            None
        );
        assert_eq!(
            drop_unasked_annotations(old, "def f(a: int):\n    return a"),
            None
        );
        // Nothing added.
        assert_eq!(
            drop_unasked_annotations(old, "def f(a, b):\n    return b"),
            None
        );
        // An annotation that was there stays, changed or not.
        let typed = "def f(a: int) -> int:\n    return a";
        assert_eq!(
            drop_unasked_annotations(typed, "def f(a: float) -> float:\n    return a"),
            None
        );
    }
}

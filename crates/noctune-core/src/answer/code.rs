//! Exactly one fenced python block out of a code answer.

use super::AnswerError;

/// One fenced block: its info string (`python`, `py`, empty) and its body.
struct Fence<'a> {
    info: &'a str,
    body: String,
    closed: bool,
}

/// Returns the code of the one fenced python block in `text`, without the fences.
///
/// Blocks tagged `python`, `py` or `python3` win; an answer with no tagged block may have exactly
/// one untagged block. Prose before and after is ignored. Fences may be indented and use three or
/// more backticks or tildes. The code keeps its own indentation and ends with a newline.
///
/// ```
/// use noctune_core::answer::extract_python_block;
/// let answer = "Here you go:\n```python\ndef f():\n    return 1\n```\nDone.";
/// assert_eq!(extract_python_block(answer).unwrap(), "def f():\n    return 1\n");
/// ```
pub fn extract_python_block(text: &str) -> Result<String, AnswerError> {
    let fences = fences(text);
    let tagged: Vec<&Fence<'_>> = fences.iter().filter(|f| is_python(f.info)).collect();
    let chosen: Vec<&Fence<'_>> = if tagged.is_empty() {
        fences.iter().filter(|f| f.info.is_empty()).collect()
    } else {
        tagged
    };
    match chosen.as_slice() {
        [] => Err(AnswerError::NoCodeBlock),
        [one] if !one.closed => Err(AnswerError::UnclosedCodeBlock),
        [one] => Ok(one.body.clone()),
        many => Err(AnswerError::SeveralCodeBlocks { count: many.len() }),
    }
}

fn is_python(info: &str) -> bool {
    let lang = info.split_whitespace().next().unwrap_or("");
    matches!(
        lang.to_ascii_lowercase().as_str(),
        "python" | "py" | "python3" | "py3"
    )
}

/// A fence line: indentation, then 3+ backticks or tildes, then the info string.
fn fence_open(line: &str) -> Option<(char, usize, &str)> {
    let trimmed = line.trim_start();
    let marker = trimmed.chars().next()?;
    if marker != '`' && marker != '~' {
        return None;
    }
    let run = trimmed.chars().take_while(|c| *c == marker).count();
    if run < 3 {
        return None;
    }
    let info = trimmed[run..].trim();
    if marker == '`' && info.contains('`') {
        return None;
    }
    Some((marker, run, info))
}

fn fences(text: &str) -> Vec<Fence<'_>> {
    let mut out = Vec::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let Some((marker, run, info)) = fence_open(line.trim_end_matches(['\n', '\r'])) else {
            continue;
        };
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            let bare = inner.trim_end_matches(['\n', '\r']);
            let trimmed = bare.trim();
            if trimmed.len() >= run && trimmed.chars().all(|c| c == marker) {
                closed = true;
                break;
            }
            body.push_str(bare);
            body.push('\n');
        }
        out.push(Fence { info, body, closed });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn one_python_block_with_prose() {
        let text = "Sure!\n\n```python\nimport os\n\n\ndef f(x):\n    return x\n```\n\nThis keeps behaviour.";
        assert_eq!(
            extract_python_block(text),
            Ok("import os\n\n\ndef f(x):\n    return x\n".to_owned())
        );
    }

    #[test]
    fn untagged_block_when_no_tagged_one() {
        assert_eq!(
            extract_python_block("```\nx = 1\n```"),
            Ok("x = 1\n".to_owned())
        );
    }

    #[test]
    fn tagged_block_wins_over_other_languages() {
        let text = "```bash\nls\n```\n```py\ny = 2\n```\n";
        assert_eq!(extract_python_block(text), Ok("y = 2\n".to_owned()));
    }

    #[test]
    fn indented_fences_crlf_and_tildes() {
        assert_eq!(
            extract_python_block("  ```python\r\nz = 3\r\n  ```\r\n"),
            Ok("z = 3\n".to_owned())
        );
        assert_eq!(
            extract_python_block("~~~python\nq = 4\n~~~"),
            Ok("q = 4\n".to_owned())
        );
    }

    #[test]
    fn inner_backticks_do_not_close() {
        let text = "````python\ns = '```'\n````";
        assert_eq!(extract_python_block(text), Ok("s = '```'\n".to_owned()));
    }

    #[test]
    fn errors() {
        assert_eq!(
            extract_python_block("def f(): pass"),
            Err(AnswerError::NoCodeBlock)
        );
        assert_eq!(
            extract_python_block("```python\na\n```\n```python\nb\n```"),
            Err(AnswerError::SeveralCodeBlocks { count: 2 })
        );
        assert_eq!(
            extract_python_block("```python\ndef f():\n    ret"),
            Err(AnswerError::UnclosedCodeBlock)
        );
    }
}

//! Changes that are only blank lines or whitespace at the file's edges: the pipeline drops them
//! before approval (nobody should be asked about them, and applying them gains nothing).

/// Whether `before` and `after` differ only by blank lines (anywhere) or by whitespace at the
/// start or the end of the file. Identical texts count as such a change.
///
/// Lines are compared exactly otherwise: indentation, trailing spaces on a line that has code,
/// and line endings (`\r\n` against `\n`) are real differences. A blank line added inside a
/// triple-quoted string also counts as blank: dropping a change is the safe direction (the
/// file keeps its old text).
///
/// ```
/// use noctune_core::pipeline::is_edge_whitespace_only;
///
/// assert!(is_edge_whitespace_only("x = 1\n", "\nx = 1\n\n\n"));
/// assert!(!is_edge_whitespace_only("x = 1\n", "x = 2\n"));
/// ```
pub fn is_edge_whitespace_only(before: &str, after: &str) -> bool {
    significant_lines(before).eq(significant_lines(after))
}

/// The lines that are not blank, with the end of the file's trailing whitespace trimmed.
fn significant_lines(text: &str) -> impl Iterator<Item = &str> {
    text.trim_end()
        .split('\n')
        .filter(|line| !line.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_and_edge_whitespace_only() {
        let before = "import os\n\n\ndef f():\n    return os.sep\n";
        for after in [
            before,
            "\nimport os\n\n\ndef f():\n    return os.sep\n",
            "\n\n  \nimport os\n\n\ndef f():\n    return os.sep\n",
            "import os\n\ndef f():\n    return os.sep\n",
            "import os\n\n\n\n\ndef f():\n\n    return os.sep\n",
            "import os\n\n\ndef f():\n    return os.sep",
            "import os\n\n\ndef f():\n    return os.sep   \n\n\t\n",
        ] {
            assert!(is_edge_whitespace_only(before, after), "{after:?}");
            assert!(is_edge_whitespace_only(after, before), "{after:?}");
        }
    }

    #[test]
    fn any_other_whitespace_is_a_real_change() {
        let before = "import os\n\n\ndef f():\n    return os.sep\n";
        for after in [
            // Indentation of the first line: an IndentationError.
            "  import os\n\n\ndef f():\n    return os.sep\n",
            // Indentation inside.
            "import os\n\n\ndef f():\n        return os.sep\n",
            // Trailing spaces on a line with code, not at the end of the file.
            "import os  \n\n\ndef f():\n    return os.sep\n",
            // Line endings.
            "import os\r\n\r\n\r\ndef f():\r\n    return os.sep\r\n",
            // Code.
            "import os\n\n\ndef f():\n    return os.pathsep\n",
            "",
        ] {
            assert!(!is_edge_whitespace_only(before, after), "{after:?}");
            assert!(!is_edge_whitespace_only(after, before), "{after:?}");
        }
    }
}

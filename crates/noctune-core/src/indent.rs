//! Indentation helpers shared by the editor side (`noctune-index`) and the pipeline.

/// Removes the common leading indentation of the code lines (blank and comment-only lines do
/// not count towards it; they lose at most that much whitespace), so that a method's text
/// parses on its own.
pub fn dedent(code: &str) -> String {
    let indent = code
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    if indent == 0 {
        return code.to_owned();
    }
    code.split_inclusive('\n')
        .map(|line| {
            let strip = line
                .bytes()
                .take(indent)
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            &line[strip..]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::dedent;

    #[test]
    fn removes_the_common_indent_of_code_lines_only() {
        assert_eq!(
            dedent("    def f():\n        return 1\n"),
            "def f():\n    return 1\n"
        );
        assert_eq!(dedent("def f():\n    pass\n"), "def f():\n    pass\n");
        assert_eq!(dedent("  a\n\n  b\n"), "a\n\nb\n");
        assert_eq!(
            dedent("    def f():\n# a comment at column 0\n        pass\n"),
            "def f():\n# a comment at column 0\n    pass\n"
        );
    }
}

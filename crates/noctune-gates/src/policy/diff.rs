//! The size of a change, in lines.

use similar::{ChangeTag, TextDiff};

/// Lines added plus lines removed between two texts (a changed line counts twice: once
/// removed, once added), as `max_diff_lines` and `auto_approve.max_lines` count them.
pub fn count_diff_lines(before: &str, after: &str) -> u32 {
    let diff = TextDiff::from_lines(before, after);
    let changed = diff
        .iter_all_changes()
        .filter(|change| change.tag() != ChangeTag::Equal)
        .count();
    u32::try_from(changed).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_added_and_removed_lines() {
        assert_eq!(count_diff_lines("a\nb\nc\n", "a\nb\nc\n"), 0);
        assert_eq!(count_diff_lines("a\nb\nc\n", "a\nB\nc\n"), 2);
        assert_eq!(count_diff_lines("a\n", "a\nb\nc\n"), 2);
        assert_eq!(count_diff_lines("a\nb\nc\n", ""), 3);
        // A missing final newline changes the last line.
        assert_eq!(count_diff_lines("a\nb", "a\nb\n"), 2);
    }
}

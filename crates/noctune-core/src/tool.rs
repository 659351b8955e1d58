//! The names of the tools a policy pack's `tools_allowed` lists, and what a listed name allows.
//!
//! Noctune runs `ruff check` (the parse gate's syntax check when ruff is allowed, the lint gate,
//! the lint proofs), `ruff fix` (the fixes made before any model is asked, and the repair
//! ladder's `ruff check --fix` step) and the pack's test
//! command (`pytest`, run when `auto_approve.require_tests` is on). `ruff format`, `mypy` and
//! `black` are accepted names, so a pack written for other tools validates, but Noctune runs
//! none of them. `ruff` alone allows every ruff command.

/// `ruff check`: the lint gate, the parse gate through ruff's parser, the lint proofs.
pub const RUFF_CHECK: &str = "ruff check";
/// `ruff fix`: ruff's safe fixes before any model is asked, and the repair ladder's
/// `ruff check --fix` step (safe fixes only, never `--unsafe-fixes`).
pub const RUFF_FIX: &str = "ruff fix";
/// `ruff format`: accepted; Noctune does not run it.
pub const RUFF_FORMAT: &str = "ruff format";
/// `ruff`: every ruff command.
pub const RUFF: &str = "ruff";
/// `pytest`: the pack's test command (`test_command`), whatever program it names.
pub const PYTEST: &str = "pytest";
/// `mypy`: accepted; Noctune does not run it.
pub const MYPY: &str = "mypy";
/// `black`: accepted; Noctune does not run it.
pub const BLACK: &str = "black";

/// Every name `tools_allowed` accepts.
pub const KNOWN_TOOLS: [&str; 7] = [RUFF, RUFF_CHECK, RUFF_FIX, RUFF_FORMAT, PYTEST, MYPY, BLACK];

/// Whether `tools_allowed` lets `tool` run: it is listed, or it is a ruff command and `ruff` is
/// listed.
pub fn is_allowed(tools_allowed: &[String], tool: &str) -> bool {
    tools_allowed
        .iter()
        .any(|listed| listed == tool || (listed == RUFF && tool.strip_prefix("ruff ").is_some()))
}

/// An error message for a name `tools_allowed` does not know, `None` for a known one.
pub fn check_name(name: &str) -> Option<String> {
    if KNOWN_TOOLS.contains(&name) {
        return None;
    }
    Some(format!(
        "unknown tool `{name}`; expected one of: {}",
        KNOWN_TOOLS
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn ruff_allows_every_ruff_command_and_nothing_else() {
        let allowed = list(&["ruff"]);
        assert!(is_allowed(&allowed, RUFF_CHECK));
        assert!(is_allowed(&allowed, RUFF_FIX));
        assert!(is_allowed(&allowed, RUFF_FORMAT));
        assert!(!is_allowed(&allowed, PYTEST));
    }

    #[test]
    fn a_ruff_command_allows_only_itself() {
        let allowed = list(&["ruff check", "pytest"]);
        assert!(is_allowed(&allowed, RUFF_CHECK));
        assert!(!is_allowed(&allowed, RUFF_FIX));
        assert!(!is_allowed(&allowed, RUFF));
        assert!(is_allowed(&allowed, PYTEST));
        assert!(!is_allowed(&[], RUFF_CHECK));
    }

    #[test]
    fn unknown_names_are_named() {
        assert_eq!(check_name("mypy"), None);
        let message = check_name("pytset").unwrap();
        assert!(message.starts_with("unknown tool `pytset`; expected one of: `ruff`"));
    }
}

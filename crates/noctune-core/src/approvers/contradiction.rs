//! A model verdict that contradicts itself is no verdict.
//!
//! A 0.5B model often writes a sensible reason and then the opposite decision ("the change
//! only removes an unused import" … `reject`), or invents what it judges ("the function
//! `load` is removed" when no `load` is in the change). Such a verdict must neither drop nor
//! apply a change: the approver turns it into a human's decision, with the note made here.

use super::llm::{ApproveAnswer, ApproveDecision};
use crate::approver::ChangeSet;

/// Phrases with which a reason says the behaviour is kept.
const KEPT: &[&str] = &[
    "harmless",
    "no change in behavio",
    "no behavio",
    "does not change the behavio",
    "does not change behavio",
    "doesn't change the behavio",
    "doesn't change behavio",
    "does not alter",
    "doesn't alter",
    "same behavio",
    "behaviour is kept",
    "behavior is kept",
    "behaviour is preserved",
    "behavior is preserved",
    "behaviour is unchanged",
    "behavior is unchanged",
    "preserves the behavio",
    "preserves behavio",
    "no functional change",
    "functionally equivalent",
    "is equivalent",
    "only formatting",
    "only whitespace",
    "only cosmetic",
    "purely cosmetic",
    "is safe",
    "are safe",
];

/// Phrases with which a reason says the behaviour changes.
const CHANGED: &[&str] = &[
    "changes the behavio",
    "changes behavio",
    "behaviour changes",
    "behavior changes",
    "behaviour is changed",
    "behavior is changed",
    "behaviour is not kept",
    "behavior is not kept",
    "alters the behavio",
    "alters behavio",
    "not equivalent",
    "different behavio",
    "unsafe",
    "is not safe",
];

/// Why `answer` contradicts itself or the change, or `None` when it is a verdict.
pub fn contradiction(answer: &ApproveAnswer, change: &ChangeSet) -> Option<String> {
    let approves = answer.decision == ApproveDecision::Approve;
    match answer.behaviour_kept {
        Some(true) if !approves => {
            return Some("it says the behaviour is kept, and rejects".to_owned());
        }
        Some(false) if approves => {
            return Some("it says the behaviour is not kept, and approves".to_owned());
        }
        _ => {}
    }
    let reason = answer.reason.to_lowercase();
    let says_kept = KEPT.iter().any(|p| reason.contains(p));
    let says_changed = CHANGED.iter().any(|p| reason.contains(p));
    if says_kept && !says_changed && !approves {
        return Some("its reason says the change keeps behaviour, and it rejects".to_owned());
    }
    if says_changed && !says_kept && approves {
        return Some("its reason says the change alters behaviour, and it approves".to_owned());
    }
    let invented: Vec<String> = named_code(&answer.reason)
        .into_iter()
        .filter(|name| !in_change(name, change))
        .collect();
    if !invented.is_empty() {
        return Some(format!(
            "its reason names {} that the change does not contain",
            invented
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}

/// Code a reason names: identifiers inside backticks and identifiers written as calls
/// (`name(`), the last part of a dotted name.
fn named_code(reason: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut push = |candidate: &str| {
        let last = candidate.rsplit('.').next().unwrap_or(candidate);
        let is_ident = last
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && last.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_ident && last.len() > 1 && !names.iter().any(|n: &String| n == last) {
            names.push(last.to_owned());
        }
    };
    for (i, part) in reason.split('`').enumerate() {
        if i % 2 == 1 {
            let inner = part.trim().trim_end_matches("()");
            let head = inner
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .next()
                .unwrap_or("");
            push(head);
        }
    }
    let chars: Vec<(usize, char)> = reason.char_indices().collect();
    for (k, &(at, c)) in chars.iter().enumerate() {
        if c != '(' || k == 0 {
            continue;
        }
        let mut start = at;
        for &(i, ch) in chars[..k].iter().rev() {
            if ch.is_alphanumeric() || ch == '_' || ch == '.' {
                start = i;
            } else {
                break;
            }
        }
        if start < at {
            push(&reason[start..at]);
        }
    }
    names
}

/// Whether `name` occurs as a whole word in the change's code or symbol names.
fn in_change(name: &str, change: &ChangeSet) -> bool {
    change.changes.iter().any(|c| {
        contains_word(&c.symbol, name)
            || c.before.as_deref().is_some_and(|t| contains_word(t, name))
            || c.after.as_deref().is_some_and(|t| contains_word(t, name))
    })
}

fn contains_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::approver::SymbolChange;

    fn change() -> ChangeSet {
        ChangeSet {
            file: PathBuf::from("pkg/util.py"),
            changes: vec![SymbolChange {
                symbol: "<imports>".into(),
                before: Some("import os, sys\nimport json\n".into()),
                after: Some("import json\n".into()),
            }],
            signals: vec![],
            diff_lines: 2,
            pack: None,
        }
    }

    fn answer(reason: &str, kept: Option<bool>, decision: ApproveDecision) -> ApproveAnswer {
        ApproveAnswer {
            reason: reason.into(),
            behaviour_kept: kept,
            risk: 0.5,
            decision,
        }
    }

    #[test]
    fn a_consistent_verdict_stands() {
        let ok = answer(
            "The unused imports `os` and `sys` are removed; json stays.",
            Some(true),
            ApproveDecision::Approve,
        );
        assert_eq!(contradiction(&ok, &change()), None);
        let reject = answer(
            "It drops `sys`, which changes behaviour.",
            Some(false),
            ApproveDecision::Reject,
        );
        assert_eq!(contradiction(&reject, &change()), None);
    }

    #[test]
    fn kept_and_rejected_is_no_verdict() {
        let a = answer("Removes imports.", Some(true), ApproveDecision::Reject);
        assert_eq!(
            contradiction(&a, &change()).as_deref(),
            Some("it says the behaviour is kept, and rejects")
        );
        let b = answer(
            "The change is harmless: a blank line.",
            None,
            ApproveDecision::Reject,
        );
        assert_eq!(
            contradiction(&b, &change()).as_deref(),
            Some("its reason says the change keeps behaviour, and it rejects")
        );
        let c = answer("This alters behaviour.", None, ApproveDecision::Approve);
        assert!(contradiction(&c, &change()).is_some());
    }

    #[test]
    fn a_reason_about_code_that_is_not_there_is_no_verdict() {
        let a = answer(
            "The function `load_config` is removed, and parse() is called twice.",
            None,
            ApproveDecision::Reject,
        );
        assert_eq!(
            contradiction(&a, &change()).as_deref(),
            Some("its reason names `load_config`, `parse` that the change does not contain")
        );
        // Named code that is in the change is fine, dotted or not.
        let b = answer(
            "`os.path` and `sys` were unused.",
            None,
            ApproveDecision::Approve,
        );
        assert_eq!(named_code(&b.reason), vec!["path", "sys"]);
        assert_eq!(
            contradiction(&b, &change()).as_deref(),
            Some("its reason names `path` that the change does not contain")
        );
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_word("import json\n", "json"));
        assert!(!contains_word("import jsonschema\n", "json"));
        assert!(!contains_word("my_json = 1", "json"));
    }
}

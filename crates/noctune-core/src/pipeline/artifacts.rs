//! The names of a task's artifacts (SPEC §5), in one place.

/// The review: label and checklist.
pub const REVIEW: &str = "review.md";
/// The draft: 1–3 targets with edit prompt and draft code.
pub const DRAFT: &str = "draft.json";
/// Evidence for the draft: imports and callsites of the targets.
pub const IMPACT: &str = "impact.json";
/// Why the parse gate failed (after the repair ladder).
pub const GATE_PARSE_ERROR: &str = "gate_parse_error.txt";
/// Why the ruff gate failed (after the repair ladder).
pub const GATE_RUFF_ERROR: &str = "gate_ruff_error.json";

/// The failure artifact of a gate other than parse: `gate_ruff_error.json` for ruff,
/// `gate_<name>_error.json` for an added gate (characters other than letters, digits, `-` and
/// `_` in its name become `_`).
pub fn gate_error(gate: &str) -> String {
    let name: String = gate
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("gate_{name}_error.json")
}
/// The whole file as proposed when it could not be applied.
pub const PROPOSED: &str = "proposed_full_file.py";

/// The deterministic tools' fixes and the findings left, in pass `n`.
pub fn fix(pass: u32) -> String {
    format!("fix_p{pass}.json")
}

/// The raw model text of the edit stage in pass `n`.
pub fn edit_raw(pass: u32) -> String {
    format!("edit_raw_p{pass}.txt")
}

/// The parsed edit ops of pass `n`.
pub fn edit_ops(pass: u32) -> String {
    format!("edit_ops_p{pass}.json")
}

/// What the editor applied and refused in pass `n`.
pub fn apply_report(pass: u32) -> String {
    format!("apply_report_p{pass}.json")
}

/// The work copy after the edit stage of pass `n` (before gates).
pub fn work_copy(pass: u32) -> String {
    format!("work_p{pass}.py")
}

/// The gate and repair outcome of pass `n`, with the checked (possibly repaired) text.
pub fn gates(pass: u32) -> String {
    format!("gates_p{pass}.json")
}

/// The approver's verdict and the policy decision of pass `n`.
pub fn approval(pass: u32) -> String {
    format!("approval_p{pass}.json")
}

/// The proven part of the model's edits in pass `n` (the tools' fixes and the targets each
/// proven on its own), applied when the whole change was not approved.
pub fn proven_part(pass: u32) -> String {
    format!("proven_part_p{pass}.py")
}

/// The pack's tests on a copy with the change of pass `n` (`require_tests`).
pub fn tests(pass: u32) -> String {
    format!("tests_p{pass}.json")
}

/// The model transcript of a stage in pass `n` (one JSON exchange per line).
pub fn transcript(stage: &str, pass: u32) -> String {
    format!("llm_{stage}_p{pass}.jsonl")
}

/// Per-pass files that a new pass moves aside into `p<N>/` (the review and draft of an
/// earlier pass describe a file that has changed since).
pub const PER_PASS: [&str; 3] = [REVIEW, DRAFT, IMPACT];

//! The stages of the per-file flow.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A stage that talks to the model. Each has a prompt (overridable under
/// `.noctune_cache/overrides/<stage>.md`) and may use its own model profile.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Judge the file: label N/P/W and a checklist.
    Review,
    /// Pick 1–3 target symbols and draft near-final code for each.
    Draft,
    /// Rewrite one target symbol on the work copy.
    Edit,
    /// Fix what the gates reported, on the changed symbols only.
    Repair,
    /// Compare BEFORE and AFTER of each changed symbol and approve or reject.
    Approve,
    /// `noctune task`: turn a user's request into steps (targets, acceptance criteria, tests).
    Plan,
    /// `noctune task`: write pytest tests from a step's acceptance criteria.
    Tests,
    /// `noctune task`: write the code of one target of a step (new or changed), and fix it when
    /// a verifier fails.
    Implement,
    /// `noctune commit`: describe what a group of changed files does, from its diff.
    Analyze,
    /// `noctune commit`: turn the analysis into a Conventional Commit subject and body.
    Format,
}

impl Stage {
    /// Every stage: the per-file pipeline's in order, then `noctune task`'s, then `noctune
    /// commit`'s (`noctune init` writes an override of each).
    pub const ALL: [Stage; 10] = [
        Stage::Review,
        Stage::Draft,
        Stage::Edit,
        Stage::Repair,
        Stage::Approve,
        Stage::Plan,
        Stage::Tests,
        Stage::Implement,
        Stage::Analyze,
        Stage::Format,
    ];

    /// The stage's name as users see it (`review`, `draft`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Review => "review",
            Stage::Draft => "draft",
            Stage::Edit => "edit",
            Stage::Repair => "repair",
            Stage::Approve => "approve",
            Stage::Plan => "plan",
            Stage::Tests => "tests",
            Stage::Implement => "implement",
            Stage::Analyze => "analyze",
            Stage::Format => "format",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown stage `{s}`; expected one of {}", known.join(", "))
            })
    }
}

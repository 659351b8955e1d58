//! The [`Prover`] trait: a deterministic proof that a change keeps behaviour.
//!
//! A small model approves badly; a proof needs no model. A prover compares a file's text before
//! and after a change and, when it can show that the change cannot alter behaviour (only
//! formatting changed, only docstrings, only annotations, only unused imports went), names the
//! class of the change. A proven change that the pack's auto-approve rules allow is applied with
//! `approved_by = "proof:<class>"`; anything a prover cannot prove goes on to the next approver.

use std::path::Path;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What a prover looks at: a whole file before and after one change.
#[derive(Debug, Clone, Copy)]
pub struct ProofInput<'a> {
    /// The file, relative to the repository root (`pkg/__init__.py` matters: its imports can be
    /// re-exports).
    pub path: &'a Path,
    /// The file's text before the change.
    pub before: &'a str,
    /// The file's text after the change.
    pub after: &'a str,
}

/// A proof that a change keeps behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Proof {
    /// The class of the change, snake_case (`formatting`, `docstrings`, `annotations`,
    /// `unused_imports`, `ruff_safe_fix`, or a pack's named rewrite). Shown as
    /// `approved_by = "proof:<class>"`.
    pub class: String,
    /// Why the class holds, in a sentence a reviewer can check (`ASTs equal once annotations
    /// are stripped`).
    pub argument: String,
}

/// Proves, when it can, that a change keeps behaviour.
///
/// `Ok(None)` means "not proven", which is not a rejection: the change goes on to the next
/// approver. `Err` means the prover could not run (its interpreter is missing); callers treat
/// that as not proven and log it. A prover must lean cautious: when in doubt, `Ok(None)`.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use noctune_core::{Proof, ProofInput, Prover, Result};
///
/// /// Proves only changes that touch nothing but trailing whitespace.
/// struct TrailingWhitespace;
///
/// #[async_trait]
/// impl Prover for TrailingWhitespace {
///     async fn prove(&self, input: ProofInput<'_>) -> Result<Option<Proof>> {
///         let strip = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
///         Ok((strip(input.before) == strip(input.after)).then(|| Proof {
///             class: "formatting".into(),
///             argument: "only trailing whitespace differs".into(),
///         }))
///     }
/// }
///
/// let prover: Arc<dyn Prover> = Arc::new(TrailingWhitespace);
/// # let _ = prover;
/// ```
#[async_trait]
pub trait Prover: Send + Sync {
    /// Proves `input` safe, or answers `None`.
    async fn prove(&self, input: ProofInput<'_>) -> Result<Option<Proof>>;
}

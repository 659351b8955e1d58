//! Proofs that a change keeps behaviour, with no model involved: [`AstProver`] implements
//! [`noctune_core::Prover`] with CPython's own `ast` (through `python3`) and the real `ruff`.
//!
//! The classes, cheapest first; the first that holds wins:
//!
//! | class | holds when |
//! | --- | --- |
//! | [`formatting`](FORMATTING) | the ASTs are equal |
//! | [`docstrings`](DOCSTRINGS) | the ASTs are equal once docstrings are removed |
//! | [`annotations`](ANNOTATIONS) | the ASTs are equal once annotations are stripped, and no changed annotation can be seen at run time |
//! | [`type_comparison`](TYPE_COMPARISON) | the ASTs are equal once `type(x) == T` is read as `type(x) is T`, and comparisons in the repository are plain |
//! | [`unused_imports`](UNUSED_IMPORTS) | only imports went, each reported F401 by ruff, none a re-export or an import with side effects |
//! | [`pack_rewrite`](PACK_REWRITE) | AFTER is ruff's fix (safe or not) of rules the pack lists as equivalent rewrites, byte for byte or with the same AST, and each rewrite's condition holds in the repository (E711: no class defines `__eq__`/`__ne__`) |
//! | [`ruff_safe_fix`](RUFF_SAFE_FIX) | AFTER is exactly ruff's safe fixes of BEFORE for the rules it reports there (then, possibly, proven unused imports removed) |
//!
//! The first four come from one `python3` run (`prove.py`, which parses and never executes
//! the code); `unused_imports` adds one `ruff check`, `ruff_safe_fix` a check and a fix. A
//! change that mixes classes (a docstring and an annotation) is not proven.
//!

mod analysis;
mod annotations;
mod docstrings;
mod formatting;
mod pack_rewrite;
mod ruff_safe_fix;
mod type_comparison;
mod unused_imports;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::{Proof, ProofInput, Prover};

pub use annotations::ANNOTATIONS;
pub use docstrings::DOCSTRINGS;
pub use formatting::FORMATTING;
pub use pack_rewrite::{
    COLLAPSIBLE_IF, Condition, EMPTY_COLLECTION_CALL, EquivalentRewrite, FORMAT_CALL,
    IF_ELSE_ASSIGNMENT, NONE_COMPARISON, PACK_REWRITE, PRINTF_FORMAT, RETURN_CONDITION,
    RETURN_OF_ASSIGNMENT, RepositoryFacts,
};
pub(crate) use ruff_safe_fix::has_safe_fix;
pub use ruff_safe_fix::{FixRules, RUFF_SAFE_FIX, SafeFixes, safe_fixes};
pub use type_comparison::TYPE_COMPARISON;
pub use unused_imports::{F401, UNUSED_IMPORTS};

use crate::config::ProjectConfig;
use crate::error::{Result, gate_error};
use crate::gates::Gates;
use crate::tools::{Python3, Ruff};

/// The name errors of the prover carry (`noctune_core::Error::Gate { gate: "proof", .. }`).
pub const PROOF: &str = "proof";

/// Proves changes safe by comparing Python ASTs (through `python3`) and ruff's own verdicts.
///
/// Without ruff only the AST classes (`formatting`, `docstrings`, `annotations`) can hold.
/// `Err` only when `python3` or `ruff` cannot run; a text that does not parse is not proven.
#[derive(Debug, Clone)]
pub struct AstProver {
    python: Python3,
    ruff: Option<Ruff>,
    config: Arc<ProjectConfig>,
    rewrites: Vec<EquivalentRewrite>,
    facts: Arc<tokio::sync::OnceCell<RepositoryFacts>>,
}

impl AstProver {
    /// A prover that runs `python` and judges each file against the target version
    /// `config` resolves for it (ruff runs in `config.root()`).
    pub fn new(python: Python3, config: Arc<ProjectConfig>) -> Self {
        Self {
            python,
            ruff: None,
            config,
            rewrites: Vec::new(),
            facts: Arc::default(),
        }
    }

    /// Adds the rewrites a pack lists as equivalent (the `pack_rewrite` class; needs ruff).
    pub fn with_rewrites(mut self, rewrites: &[EquivalentRewrite]) -> Self {
        self.rewrites = rewrites.to_vec();
        self
    }

    /// What the repository shows about `pack_rewrite`'s conditions, looked up once; nothing
    /// holds when python3 cannot list its standard library.
    async fn facts(&self) -> RepositoryFacts {
        *self
            .facts
            .get_or_init(|| async {
                let stdlib = match self.python.stdlib_modules().await {
                    Ok(names) => names,
                    Err(err) => {
                        tracing::debug!("pack_rewrite: no standard library list: {err}");
                        return RepositoryFacts::default();
                    }
                };
                let root = self.config.root().to_path_buf();
                tokio::task::spawn_blocking(move || pack_rewrite::repository_facts(&root, &stdlib))
                    .await
                    .unwrap_or_default()
            })
            .await
    }

    /// Adds ruff, for the `unused_imports` and `ruff_safe_fix` classes.
    pub fn with_ruff(mut self, ruff: Ruff) -> Self {
        self.ruff = Some(ruff);
        self
    }

    /// The prover for what [`Gates`] found: its `python3`, its ruff (only where `ruff check`
    /// runs, as the lint gate) and its configuration. `None` without `python3`.
    pub fn from_gates(gates: &Gates) -> Option<Self> {
        let tools = gates.tools();
        let prover = Self::new(tools.python.clone()?, gates.config().clone());
        Some(match gates.ruff_gate() {
            Some(gate) => prover.with_ruff(gate.ruff().clone()),
            None => prover,
        })
    }

    /// Proves the change from `before` to `after` of `path` (relative to the root), or
    /// answers `None`.
    pub async fn prove_change(
        &self,
        path: &Path,
        before: &str,
        after: &str,
    ) -> Result<Option<Proof>> {
        let target = self.config.for_file(path)?.target.version;
        let analysis = analysis::analyze(&self.python, before, after, target).await?;
        if let Some(error) = &analysis.parse_error {
            tracing::debug!(path = %path.display(), %error, "proof: not proven");
            return Ok(None);
        }
        if !analysis.header_changed {
            let ast_proof = formatting::prove(&analysis)
                .or_else(|| docstrings::prove(&analysis))
                .or_else(|| annotations::prove(&analysis));
            if ast_proof.is_some() {
                return Ok(ast_proof);
            }
            if analysis.type_identity {
                let plain = self.facts().await.plain_comparisons;
                if let Some(proof) = type_comparison::prove(&analysis, plain) {
                    return Ok(Some(proof));
                }
            }
        }
        let Some(ruff) = &self.ruff else {
            return Ok(None);
        };
        let root = self.config.root();
        if !analysis.header_changed
            && let Some(removed) = unused_imports::candidates(&analysis, path)
        {
            let diagnostics = ruff
                .check_selected(root, path, before, target, &[unused_imports::F401])
                .await?;
            if let Some(proof) = unused_imports::prove(removed, &diagnostics) {
                return Ok(Some(proof));
            }
        }
        if !self.rewrites.is_empty()
            && let Some(proof) = pack_rewrite::prove(
                ruff,
                &self.python,
                root,
                path,
                before,
                after,
                target,
                &self.rewrites,
                self.facts().await,
            )
            .await?
        {
            return Ok(Some(proof));
        }
        // Ruff's safe fixes (the repository's rules, then with pyupgrade's too), possibly
        // followed by the removal of imports proven unused: each step keeps behaviour.
        for rules in [FixRules::Repo, FixRules::RepoAndUpgrade] {
            let Some(fixes) =
                ruff_safe_fix::safe_fixes(ruff, root, path, before, target, rules).await?
            else {
                continue;
            };
            if fixes.text == after {
                return Ok(Some(ruff_safe_fix::proof(ruff, &fixes)));
            }
            if fixes.text != before
                && let Some(removal) = self.unused_imports_only(path, &fixes.text, after).await?
            {
                let fixed = ruff_safe_fix::proof(ruff, &fixes);
                return Ok(Some(Proof {
                    class: RUFF_SAFE_FIX.to_owned(),
                    argument: format!("{}; then {}", fixed.argument, removal.argument),
                }));
            }
        }
        Ok(None)
    }

    /// The `unused_imports` proof of the change from `before` to `after`, if it holds.
    pub async fn unused_imports_only(
        &self,
        path: &Path,
        before: &str,
        after: &str,
    ) -> Result<Option<Proof>> {
        let Some(ruff) = &self.ruff else {
            return Ok(None);
        };
        let target = self.config.for_file(path)?.target.version;
        let analysis = analysis::analyze(&self.python, before, after, target).await?;
        if analysis.parse_error.is_some() || analysis.header_changed {
            return Ok(None);
        }
        let Some(removed) = unused_imports::candidates(&analysis, path) else {
            return Ok(None);
        };
        let diagnostics = ruff
            .check_selected(
                self.config.root(),
                path,
                before,
                target,
                &[unused_imports::F401],
            )
            .await?;
        Ok(unused_imports::prove(removed, &diagnostics))
    }

    /// The project configuration the prover judges files against.
    pub fn config(&self) -> &Arc<ProjectConfig> {
        &self.config
    }

    /// The ruff the prover runs, when it has one.
    pub fn ruff(&self) -> Option<&Ruff> {
        self.ruff.as_ref()
    }
}

#[async_trait]
impl Prover for AstProver {
    async fn prove(&self, input: ProofInput<'_>) -> noctune_core::Result<Option<Proof>> {
        self.prove_change(input.path, input.before, input.after)
            .await
            .map_err(|err| gate_error(PROOF, err))
    }
}

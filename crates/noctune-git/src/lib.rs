//! Noctune's git output: a night's applied changes as a few clean commits on a branch of their
//! own, never touching the user's working tree, index or current branch.
//!
//! - [`runner`]: git as a subprocess with an argument vector and an allowlist of subcommands;
//!   never `--force`, `reset --hard`, `--no-verify`, `add -A`; never `git config`.
//! - [`secrets`]: the prefilter that keeps secret-looking paths and contents out of commits.
//! - [`patchset`]: a run's applied changes grouped (per file, module, pack, or one) and
//!   committed on `noctune/<run_id>` in a separate `git worktree`, the pack's tools first.
//!
//! - [`autocommit`]: `noctune commit`, dirty trees committed in groups with model-written
//!   messages, pushed fast-forward only.
//!
//! Core runs need no git; this crate is used only on request (`noctune patchset`).

pub mod autocommit;
pub mod error;
pub mod patchset;
pub mod runner;
pub mod secrets;
pub mod staging;

pub use error::{Error, Result};
pub use runner::Git;

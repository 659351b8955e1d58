//! Policy packs: which files a run may change, how large a change may be, which tools may run,
//! and when a change may apply without a human. The verdict is data
//! ([`PolicyDecision`](noctune_core::PolicyDecision)), never a callback.

mod builtin;
mod diff;
mod pack;
mod paths;
mod registry;

pub use builtin::{BUILTIN_PACKS, builtin_settings};
pub use diff::count_diff_lines;
pub use pack::{AutoApprove, ConfiguredPack, PackSettings};
pub use paths::{RepoPath, resolve_in_repo};
pub use registry::PolicyPacks;

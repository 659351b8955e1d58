//! One module per command.

pub mod apply;
pub mod approvals;
pub mod check;
pub mod commit;
pub mod config;
pub mod eval;
pub mod index;
pub mod init;
pub mod lessons;
pub mod owners;
pub mod patchset;
pub mod probe;
pub mod report;
pub mod restore;
pub mod run;
pub mod runs;
pub mod search;
pub mod status;
pub mod studio;
pub mod symbols;
pub mod task;

//! One module per command.

pub mod apply;
pub mod approvals;
pub mod check;
pub mod commit;
pub mod config;
pub mod eval;
pub mod index;
pub mod init;
pub mod patchset;
pub mod report;
pub mod restore;
pub mod run;
pub mod runs;
pub mod status;
pub mod studio;
pub mod symbols;

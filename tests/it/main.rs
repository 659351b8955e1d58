//! Cross-crate integration tests: one test binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod custom_gate;
mod demo_repo;
mod edit_answer;
mod run_store_processes;

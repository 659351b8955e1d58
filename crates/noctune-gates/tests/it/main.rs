//! Integration tests of noctune-gates with the real `ruff` and `python3`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixer;
mod parse_agreement;
mod parse_gate;
mod policy;
mod proof;
mod real_editor;
mod repair;
mod ruff_gate;
mod support;

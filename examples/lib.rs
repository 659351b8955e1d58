//! Examples of embedding `noctune-core`. Each extension trait is implemented with nothing but
//! `noctune-core` (`no_print_gate.rs`, `toy_editor.rs`, and the example files); `gated_run.rs`
//! composes a custom gate with the real editor, gates and model client of the other crates.
//! Run one with `cargo run -p noctune-examples --example custom_gate`.
//!
//! `demo-repo/` is a small Python project with old-style code that the README's main command
//! works on.

pub mod gated_run;
pub mod no_print_gate;
pub mod toy_editor;

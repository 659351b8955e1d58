//! Examples of embedding `noctune-core`. Each file under `examples/` implements one extension
//! trait with nothing but `noctune-core`; run one with
//! `cargo run -p noctune-examples --example custom_gate`.
//!
//! `demo-repo/` is a small Python project with old-style code that the README's main command
//! works on.

pub mod toy_editor;

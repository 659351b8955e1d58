//! Integration tests of the OpenAI-compatible client against the fake server, and end to end
//! against the real local model (`scripts/test` starts it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budget;
mod chat;
mod e2e;
mod faults;
mod pool;
mod probe;
mod sse;
mod structured;
mod support;
mod transcript;

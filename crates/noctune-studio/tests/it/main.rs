//! Studio integration tests: handlers through `build_app(..).oneshot(..)`, and real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod attacks;
mod audit_db;
mod chat;
mod chat_attacks;
mod chat_mcp;
mod chat_tools;
mod common;
mod mcp;
mod socket;
mod tasks;
mod workers;

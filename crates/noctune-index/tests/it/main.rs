//! Integration tests of noctune-index on real files: the machine's CPython standard library,
//! real SQLite databases, real ripgrep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod callsites;
mod corpus;
mod crash;
mod evidence;
mod stdlib;

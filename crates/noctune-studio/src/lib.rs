//! Noctune Studio: the local daemon. An axum HTTP API and an embedded web UI over the run
//! store, run workers supervised as child processes, an audit database
//! (`.noctune_cache/studio/audit.db`), and a chat with the configured model whose tools read,
//! edit and run under permissions. See `docs/studio.md` for the routes and
//! `docs/security.md` for the security model.
//!
//! ```no_run
//! # async fn demo() -> noctune_studio::Result<()> {
//! let studio = noctune_studio::serve(noctune_studio::ServeOptions::new(".".as_ref())?).await?;
//! tracing::info!("Noctune Studio: {}", studio.url());
//! studio.wait().await;
//! # Ok(()) }
//! ```

pub mod audit;
pub mod chat;
mod client;
pub mod control;
pub mod daemon_file;
pub mod error;
mod ingest_loop;
pub mod mcp;
pub mod routes;
pub mod sandbox;
pub mod security;
mod server;
pub mod state;
pub mod token;
pub mod worker;

pub use client::{Stopped, stop};
pub use error::{ApiError, Error, Result};
pub use routes::build_app;
pub use server::{HEADER_READ_TIMEOUT, ServeOptions, Studio, serve};
pub use state::{AppState, StateOptions};
pub use worker::WorkerCommand;

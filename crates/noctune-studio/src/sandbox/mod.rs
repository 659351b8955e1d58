//! Path sandboxing, shared by the MCP server (`repo_root` arguments) and the chat's file tools
//! (paths under the allowed roots). Both refuse `..`, canonicalise (symlinks resolved) and
//! compare with canonical roots component by component, never as string prefixes.

mod path;
mod repo_root;

pub use path::{Access, Resolved, Sandbox, SandboxError};
pub use repo_root::resolve_repo_root;

//! `<server>__<tool>`: a tool of an external MCP server (needs `mcp:<server>`). The call is
//! checked (a configured server, arguments an object) before the permission, runs on the
//! server within its timeout, is audited (`mcp_call`, `who = chat:<session>`) whether it
//! succeeds or not, and its result comes back as data
//! ([`result_data`](crate::chat::external::result::result_data)).

use serde_json::Value;

use super::{ToolContext, ToolOutcome};
use crate::chat::external::{self, result::result_data};
use crate::chat::permissions::Permission;

pub(super) async fn run(
    ctx: &ToolContext,
    name: &str,
    server: &str,
    tool: &str,
    arguments: Value,
) -> Result<ToolOutcome, ToolOutcome> {
    let settings = ctx
        .chat
        .settings()
        .map_err(|err| ToolOutcome::error("config_error", err.to_string()))?;
    let servers = &settings.studio.mcp_servers;
    let Some(server_settings) = servers.get(server) else {
        return Err(ToolOutcome::error(
            "unknown_tool",
            format!(
                "there is no tool `{name}`: no MCP server `{server}` is configured (servers: {})",
                external::names(servers)
            ),
        ));
    };
    let arguments = match arguments {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => {
            return Err(ToolOutcome::error(
                "bad_arguments",
                format!("bad arguments for `{name}`: expected a JSON object, found `{other}`"),
            ));
        }
    };
    ctx.permit(Permission::Mcp(server.to_owned()), name)?;
    let called = ctx
        .chat
        .mcp
        .call(server, server_settings, tool, arguments)
        .await;
    let outcome = match called {
        Ok(result) => {
            let data = result_data(server, tool, &result);
            let status = if data["is_error"] == true {
                "error result"
            } else {
                "ok"
            };
            ctx.audit("mcp_call", format!("{name}: {status}")).await;
            ToolOutcome::ok(data)
        }
        Err(err) => {
            tracing::warn!(mcp_server = %server, tool = %tool, "{err}");
            ctx.audit("mcp_call", format!("{name}: {}", err.code)).await;
            ToolOutcome::error(err.code, err.message)
        }
    };
    Ok(outcome)
}

//! Noctune Studio: the local daemon (HTTP API and web UI), worker supervision, the audit
//! database, chat tools and the MCP server. Not built yet: SPEC §9 describes it.

//! An external MCP server's tool in the Studio chat, in a real browser: the daemon starts the
//! fixture server (`noctune-studio/tests/fixtures/mcp/chat_server.py`, on the pinned Python
//! SDK in `.tools/mcp-venv`) from `[studio.mcp_servers.docs]`; the model's call to
//! `docs__lookup` is refused until the page's prompt, which names the server and the tool, is
//! answered with "allow once"; then the call runs and its result is shown as data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::studio_chat::{native_call, panels, say, serve, shots, wait_idle, wait_panels};
use crate::webdriver::Browser;

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/mcp-venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is not installed at `{}`: run `scripts/test`, or `. scripts/lib/tools.sh; ensure_mcp_python`",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_uses_an_external_mcp_tool_after_permission_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let server = FakeServer::start([
        native_call("docs__lookup", &json!({"topic": "add"})),
        Reply::answer("I need the **mcp:docs** permission to read the notes."),
        native_call("docs__lookup", &json!({"topic": "add"})),
        Reply::answer("The notes say add() returns the sum of a and b."),
    ])
    .await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../noctune-studio/tests/fixtures/mcp/chat_server.py");
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "[llm]\nbase_url = \"{}\"\nstream = true\nmax_retries = 0\ntimeout_s = 30\n\
             [studio.mcp_servers.docs]\ncommand = {}\nargs = [{}]\n",
            server.url(),
            json!(python()),
            json!(script),
        ),
    )
    .unwrap();
    std::fs::write(root.join("calc.py"), "def add(a, b):\n    return a + b\n").unwrap();
    let studio = serve(&root, &server.url()).await;
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let browser = Browser::start(1280, 800).await;
    browser.goto(studio.url()).await;
    browser.goto(&format!("{base}/chat")).await;
    browser.find("#input").await;
    browser
        .wait_text("#allowed", "External MCP servers: docs.")
        .await;

    say(&browser, "What do the project notes say about add?").await;
    wait_panels(&browser, "docs__lookup", "mcp_not_allowed", 1).await;
    browser
        .wait_text(
            "#permission:not([hidden])",
            "docs__lookup needs the mcp:docs permission",
        )
        .await;
    browser
        .wait_text(
            "#permission:not([hidden])",
            "call the tools of the external MCP server docs",
        )
        .await;
    wait_idle(&browser).await;
    browser
        .screenshot(&shots().join("chat-mcp-permission.png"))
        .await;

    browser
        .click("#permission:not([hidden]) [data-grant=once]")
        .await;
    wait_panels(&browser, "docs__lookup", "ok", 1).await;
    // Results are folded, as reads are; unfold them to see the data.
    browser
        .eval("document.querySelectorAll('.tool').forEach((d) => { d.open = true; })")
        .await;
    browser
        .wait_text("#messages", "Data from the MCP server docs (tool lookup)")
        .await;
    browser
        .wait_text("#messages", "add() returns the sum of a and b.")
        .await;
    wait_idle(&browser).await;
    assert_eq!(server.remaining(), 0, "every scripted reply was used");
    assert_eq!(panels(&browser, "docs__lookup", "mcp_not_allowed").await, 1);
    browser
        .screenshot(&shots().join("chat-mcp-result.png"))
        .await;
    browser.close().await;
    studio.shutdown();
    tokio::time::timeout(Duration::from_secs(30), studio.wait())
        .await
        .unwrap();
}

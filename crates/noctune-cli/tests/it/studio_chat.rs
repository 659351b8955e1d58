//! Studio chat in a real browser (headless chromium over chromedriver), against the fake
//! OpenAI server: a write is refused until allowed (deny → `write_not_allowed` → allow once →
//! the edit lands with a backup), "allow this session" lets the model start a run and tail
//! its events, and "always allow" still holds after a daemon and browser restart.
//! Screenshots go to `target/studio-screenshots/`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use noctune_core::store::RunStore;
use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply, chunk};
use noctune_studio::{ServeOptions, WorkerCommand};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::webdriver::Browser;

const CALC: &str = "def add(a, b):\n    return a + b\n";
const SWAPPED: &str = "def add(a, b):\n    return b + a\n";

fn in_text_call(name: &str, arguments: &Value) -> Reply {
    Reply::answer(format!(
        "I will use {name}.\n<tool_call>\n{}\n</tool_call>",
        json!({"name": name, "arguments": arguments})
    ))
}

pub fn native_call(name: &str, arguments: &Value) -> Reply {
    Reply::sse([
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": format!("call_{name}"), "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ])
}

/// The run id in the latest tool result of a request.
fn last_run_id(request: &RecordedRequest) -> String {
    let messages = request.body["messages"].as_array().unwrap();
    let tool = messages.iter().rev().find(|m| m["role"] == "tool").unwrap();
    let result: Value = serde_json::from_str(tool["content"].as_str().unwrap()).unwrap();
    result["run_id"].as_str().unwrap().to_owned()
}

/// The chat's script, one reply per chat request; workers' requests are refused.
fn responder(count: &AtomicUsize, request: &RecordedRequest) -> Reply {
    let is_chat = request.prompt_text().contains("Noctune Studio's assistant");
    if !is_chat {
        return Reply::error(400, "this test's model only chats");
    }
    let write = |content: &str| {
        in_text_call(
            "write_file",
            &json!({"path": "calc.py", "content": content}),
        )
    };
    let notes = |content: &str| {
        native_call(
            "write_file",
            &json!({"path": "notes.py", "content": content}),
        )
    };
    match count.fetch_add(1, Ordering::SeqCst) {
        0 | 2 | 4 => write(SWAPPED),
        1 => Reply::answer("I need the **write** permission to change `calc.py`."),
        3 => Reply::answer("Please allow writes."),
        5 => Reply::answer(
            "Done: `add` now returns `b + a`:\n```python\ndef add(a, b):\n    return b + a\n```",
        ),
        6 | 8 => native_call(
            "start_run",
            &json!({"pack": "lint_fix", "files": ["calc.py"]}),
        ),
        7 => Reply::answer("Starting a run needs the **run** permission."),
        9 => native_call(
            "run_events",
            &json!({"run_id": last_run_id(request), "cursor": 0}),
        ),
        10 => Reply::answer("The run has started."),
        11 | 13 => notes("NOTE = 1\n"),
        12 => Reply::answer("Please allow writes."),
        14 => Reply::answer("Written."),
        15 => notes("NOTE = 2\n"),
        16 => Reply::answer("Written again."),
        n => Reply::answer(format!("(unscripted chat request {n})")),
    }
}

pub async fn serve(root: &Path, url: &str) -> noctune_studio::Studio {
    noctune_studio::serve(ServeOptions {
        root: root.to_path_buf(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: vec![("NOCTUNE_BASE_URL".into(), url.into())],
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 64,
    })
    .await
    .unwrap()
}

pub fn shots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/studio-screenshots")
}

pub async fn say(browser: &Browser, text: &str) {
    browser.fill("#input", text).await;
    browser.click("#send").await;
}

/// How many tool panels of `tool` show `result`.
pub async fn panels(browser: &Browser, tool: &str, result: &str) -> u64 {
    browser
        .eval(&format!(
            "return document.querySelectorAll('.tool[data-tool=\"{tool}\"][data-result=\"{result}\"]').length"
        ))
        .await
        .as_u64()
        .unwrap()
}

pub async fn wait_panels(browser: &Browser, tool: &str, result: &str, want: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while panels(browser, tool, result).await < want {
        if std::time::Instant::now() > deadline {
            let text = browser.eval("return document.body.innerText").await;
            panic!("never {want} `{tool}` panels with `{result}`: {text}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

pub async fn wait_idle(browser: &Browser) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while browser
        .eval("return document.getElementById('send').disabled")
        .await
        .as_bool()
        .unwrap()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the answer never ended"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_permissions_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let server = FakeServer::start_responder(FakeOptions::default(), move |request| {
        responder(&counter, request)
    })
    .await;
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "[llm]\nbase_url = \"{}\"\nstream = true\nmax_retries = 0\ntimeout_s = 30\n",
            server.url()
        ),
    )
    .unwrap();
    std::fs::write(root.join("calc.py"), CALC).unwrap();
    let shots = shots();
    let studio = serve(&root, &server.url()).await;
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let browser = Browser::start(1280, 800).await;
    browser.goto(studio.url()).await;
    browser.goto(&format!("{base}/chat")).await;
    browser.find("#input").await;

    // No permission: the model's write is refused, the page asks; deny leaves the file.
    say(&browser, "Swap the operands in add").await;
    wait_panels(&browser, "write_file", "write_not_allowed", 1).await;
    browser
        .find("#permission:not([hidden]) [data-grant=deny]")
        .await;
    wait_idle(&browser).await;
    browser
        .wait_text("#messages", "permission to change calc.py")
        .await;
    browser.screenshot(&shots.join("chat-permission.png")).await;
    browser.click("[data-grant=deny]").await;
    browser.find("#permission[hidden]").await;
    assert_eq!(std::fs::read_to_string(root.join("calc.py")).unwrap(), CALC);

    // Asked again, allowed once: the edit lands, with a backup of the original.
    say(&browser, "Please try again").await;
    wait_panels(&browser, "write_file", "write_not_allowed", 2).await;
    browser
        .click("#permission:not([hidden]) [data-grant=once]")
        .await;
    wait_panels(&browser, "write_file", "ok", 1).await;
    browser.wait_text("#messages", "now returns b + a").await;
    // Code in an answer is rendered as a highlighted block, never as markup.
    browser.find(".msg.assistant pre .tok-kw").await;
    assert_eq!(
        std::fs::read_to_string(root.join("calc.py")).unwrap(),
        SWAPPED
    );
    let backups = root.join(".noctune_cache/studio_edits/backups");
    let backup = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::read_to_string(backup.join("original")).unwrap(),
        CALC
    );
    browser.click("#edits summary").await;
    browser.wait_text("#backups", "calc.py").await;
    wait_idle(&browser).await;
    browser.screenshot(&shots.join("chat-edit.png")).await;

    // The edit is restorable from the page.
    browser.click("#backups [data-restore]").await;
    browser.wait_text("#toast", "Restored calc.py").await;
    assert_eq!(std::fs::read_to_string(root.join("calc.py")).unwrap(), CALC);

    // Allow this session: the model starts a run and tails its events.
    say(
        &browser,
        "Start a lint_fix run on calc.py and tell me how it goes",
    )
    .await;
    wait_panels(&browser, "start_run", "run_not_allowed", 1).await;
    browser
        .click("#permission:not([hidden]) [data-grant=session]")
        .await;
    wait_panels(&browser, "start_run", "ok", 1).await;
    wait_panels(&browser, "run_events", "ok", 1).await;
    browser.wait_text("#messages", "The run has started.").await;
    let runs = RunStore::new(&root).list().unwrap();
    assert_eq!(runs.len(), 1, "the chat started one run");
    assert_eq!(runs[0].pack.as_deref(), Some("lint_fix"));
    wait_idle(&browser).await;
    browser
        .eval("document.querySelectorAll('.tool').forEach((d) => { d.open = true; })")
        .await;
    browser.screenshot(&shots.join("chat-run.png")).await;

    // A new chat has to ask again; "always allow" is written down.
    browser.click("#new-chat").await;
    browser
        .wait_text("#messages", "Ask what a function does")
        .await;
    say(&browser, "Write notes.py").await;
    wait_panels(&browser, "write_file", "write_not_allowed", 1).await;
    browser
        .click("#permission:not([hidden]) [data-grant=always]")
        .await;
    wait_panels(&browser, "write_file", "ok", 1).await;
    browser.wait_text("#messages", "Written.").await;
    assert_eq!(
        std::fs::read_to_string(root.join("notes.py")).unwrap(),
        "NOTE = 1\n"
    );
    let allow: Value = serde_json::from_slice(
        &std::fs::read(root.join(".noctune_cache/studio_allow.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(allow, json!({"write": true, "run": false}));
    wait_idle(&browser).await;
    browser.close().await;
    studio.shutdown();
    tokio::time::timeout(Duration::from_secs(30), studio.wait())
        .await
        .unwrap();

    // A new daemon and a new browser: writes are still allowed, nothing is asked.
    let studio = serve(&root, &server.url()).await;
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let browser = Browser::start(1280, 800).await;
    browser.goto(studio.url()).await;
    browser.goto(&format!("{base}/chat")).await;
    browser.wait_text("#sessions", "Write notes.py").await;
    browser.click("#new-chat").await;
    browser
        .wait_text("#messages", "Ask what a function does")
        .await;
    say(&browser, "Write notes.py again").await;
    wait_panels(&browser, "write_file", "ok", 1).await;
    browser.wait_text("#messages", "Written again.").await;
    assert_eq!(panels(&browser, "write_file", "write_not_allowed").await, 0);
    assert_eq!(
        browser
            .eval("return document.getElementById('permission').hidden")
            .await,
        json!(true)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("notes.py")).unwrap(),
        "NOTE = 2\n"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        17,
        "every scripted chat reply was used"
    );
    wait_idle(&browser).await;
    browser.screenshot(&shots.join("chat-always.png")).await;
    browser.click("#theme").await;
    browser
        .screenshot(&shots.join("chat-theme-toggled.png"))
        .await;
    browser.resize(420, 860).await;
    browser.screenshot(&shots.join("chat-phone.png")).await;
    browser.close().await;
    studio.shutdown();
    tokio::time::timeout(Duration::from_secs(30), studio.wait())
        .await
        .unwrap();
}

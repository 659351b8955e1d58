//! Chat: sessions, a streamed answer, tool calls (native, in the text, malformed), the loop
//! cap, permissions and backups, against the scripted OpenAI server.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use noctune_llm::fake::{FakeOptions, FakeServer, Reply, chunk};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestApp, authed};

/// A test app whose configuration points the chat at `server`.
pub fn app_with_model(server: &FakeServer) -> TestApp {
    let app = TestApp::new();
    std::fs::write(
        app.root().join("noctune.toml"),
        format!(
            "[llm]\nbase_url = \"{}\"\nmax_retries = 0\ntimeout_s = 20\n",
            server.url()
        ),
    )
    .unwrap();
    std::fs::write(
        app.root().join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    app
}

/// The events of an SSE body: (event name, data).
pub fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push_str(value);
                }
            }
            Some((name?, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

pub async fn new_session(app: &TestApp) -> String {
    let (status, body) = app.post("/api/chat/sessions", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Sends a message and reads its whole stream.
pub async fn say(app: &TestApp, session: &str, text: &str) -> Vec<(String, Value)> {
    let response = app
        .app
        .clone()
        .oneshot(
            authed(Request::post(format!(
                "/api/chat/sessions/{session}/messages"
            )))
            .header("content-type", "application/json")
            .body(Body::from(json!({ "content": text }).to_string()))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    sse_events(&String::from_utf8_lossy(&bytes))
}

pub fn of<'a>(events: &'a [(String, Value)], name: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

pub fn tool_results(events: &[(String, Value)]) -> Vec<Value> {
    of(events, "entry")
        .into_iter()
        .filter(|e| e["entry"]["role"] == "tool")
        .map(|e| serde_json::from_str(e["entry"]["content"].as_str().unwrap()).unwrap())
        .collect()
}

pub fn native_call(id: &str, name: &str, arguments: &Value) -> Reply {
    Reply::sse([
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ])
}

#[tokio::test]
async fn an_answer_streams_token_by_token_and_the_session_survives_a_restart() {
    let server =
        FakeServer::start([Reply::answer("`add` returns the sum of its two arguments.")]).await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "What does add do?").await;
    let tokens: Vec<&str> = of(&events, "token")
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert!(tokens.len() > 1, "streamed in pieces: {tokens:?}");
    assert_eq!(
        tokens.concat(),
        "`add` returns the sum of its two arguments."
    );
    assert_eq!(
        events.last().unwrap(),
        &("done".to_owned(), json!({"type": "done", "stopped": false}))
    );
    // The request carried the tools and the system prompt.
    let request = &server.chat_requests()[0].body;
    assert_eq!(request["stream"], json!(true));
    assert_eq!(request["messages"][0]["role"], "system");
    assert_eq!(request["messages"][1]["content"], "What does add do?");
    let tools: Vec<&str> = request["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"read_file") && tools.contains(&"decide_approval"),
        "{tools:?}"
    );

    let (status, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["title"], "What does add do?");
    let roles: Vec<&str> = session["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
    let (_, list) = app.get("/api/chat/sessions").await;
    assert_eq!(list["sessions"][0]["id"], json!(id));
    assert_eq!(list["sessions"][0]["messages"], json!(2));

    // Export: the stored session as a JSON attachment.
    let response = app
        .app
        .clone()
        .oneshot(
            authed(Request::get(format!("/api/chat/sessions/{id}/export")))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"noctune-chat-")
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(exported["entries"], session["entries"]);

    // A new daemon over the same root reads the session from disk.
    let file = app
        .root()
        .join(format!(".noctune_cache/studio_chat/sessions/{id}.json"));
    assert!(file.is_file());
    let restarted = noctune_studio::chat::Chat::new(&app.root());
    assert_eq!(
        serde_json::to_value(restarted.sessions.get(&id).unwrap()).unwrap()["entries"],
        session["entries"]
    );
}

#[tokio::test]
async fn a_native_tool_call_is_run_and_its_result_goes_back_as_a_tool_message() {
    let server = FakeServer::start([
        native_call("call_1", "read_file", &json!({"path": "calc.py"})),
        Reply::answer("It adds."),
    ])
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "Read calc.py").await;
    let calls = of(&events, "tool_call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["name"], "read_file");
    let results = tool_results(&events);
    assert_eq!(results[0]["path"], "calc.py");
    assert_eq!(results[0]["total_lines"], 2);
    assert!(
        results[0]["content"]
            .as_str()
            .unwrap()
            .contains("    1  def add(a, b):")
    );
    let second = &server.chat_requests()[1].body;
    let messages = second["messages"].as_array().unwrap();
    let assistant = &messages[messages.len() - 2];
    assert_eq!(assistant["tool_calls"][0]["id"], "call_1");
    let tool = &messages[messages.len() - 1];
    assert_eq!(
        (tool["role"].as_str(), tool["tool_call_id"].as_str()),
        (Some("tool"), Some("call_1"))
    );
    let (_, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
    assert_eq!(session["entries"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn in_text_and_malformed_calls_get_results_the_model_can_correct() {
    let server = FakeServer::start([
        Reply::answer("<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": }\n</tool_call>"),
        Reply::answer("<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"calc.py\", \"start\": 2}}\n</tool_call>"),
        native_call("call_9", "read_file", &json!("not an object")),
        native_call("call_10", "no_such_tool", &json!({})),
        Reply::answer("Line 2 returns a + b."),
    ])
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "What is on line 2 of calc.py?").await;
    let results = tool_results(&events);
    assert_eq!(results.len(), 4, "{results:?}");
    assert_eq!(results[0]["error"], "malformed_tool_call");
    assert!(
        results[0]["message"]
            .as_str()
            .unwrap()
            .contains("the JSON object is not closed")
    );
    assert_eq!(results[1]["content"], "    2      return a + b\n");
    assert_eq!(results[2]["error"], "bad_arguments");
    assert_eq!(results[3]["error"], "unknown_tool");
    // Calls written in the text get their results back as text, in <tool_response> blocks.
    let second = &server.chat_requests()[1].body;
    let last = second["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "user");
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .starts_with("<tool_response>\n{\"error\":\"malformed_tool_call\"")
    );
    assert_eq!(of(&events, "done").len(), 1);
    assert!(of(&events, "error").is_empty());
}

#[tokio::test]
async fn the_tool_loop_is_capped_per_message() {
    // Each call differs (a repeated one would end the loop by itself).
    let n = std::sync::atomic::AtomicUsize::new(0);
    let server = FakeServer::start_responder(FakeOptions::default(), move |_| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let glob = if i == 0 {
            "*.py".to_owned()
        } else {
            format!("*{i}.py")
        };
        native_call("call_x", "list_files", &json!({ "glob": glob }))
    })
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "loop forever").await;
    assert_eq!(
        server.chat_requests().len(),
        noctune_studio::chat::turn::MAX_TOOL_ROUNDS
    );
    let errors = of(&events, "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["code"], "tool_loop_cap");
    assert_eq!(tool_results(&events)[0]["files"], json!(["calc.py"]));
}

#[tokio::test]
async fn a_model_that_cannot_be_reached_is_an_error_event_not_a_crash() {
    let server = FakeServer::start([Reply::error(400, "bad request")]).await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "hello").await;
    let errors = of(&events, "error");
    assert_eq!(errors[0]["code"], "model_error");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("bad request")
    );
    // The session is free again.
    let again = say(&app, &id, "hello again").await;
    assert_eq!(of(&again, "done").len(), 1);
}

#[tokio::test]
async fn session_routes_refuse_bad_ids_unknown_sessions_and_profiles() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let (status, body) = app.get("/api/chat/sessions/..%2F..%2Fetc").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_session_id"))
    );
    let (status, _) = app.get("/api/chat/sessions/20260101-000000-abcdef").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post("/api/chat/sessions", json!({"profile": "nope"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_profile"))
    );
    let id = new_session(&app).await;
    let (status, body) = app
        .post(
            &format!("/api/chat/sessions/{id}/messages"),
            json!({"content": "  "}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("empty_message"))
    );
    let (status, body) = app
        .post(&format!("/api/chat/sessions/{id}/stop"), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_busy"))
    );
    assert!(server.chat_requests().is_empty());
}

#[tokio::test]
async fn stop_ends_a_streaming_answer_and_keeps_what_was_said() {
    use noctune_llm::fake::{Part, sse_event};
    let parts = vec![
        Part::Bytes(sse_event(
            &chunk(json!({"role": "assistant", "content": "Partial ans"}), None).to_string(),
        )),
        Part::Pause(std::time::Duration::from_secs(30)),
        Part::Bytes(sse_event(
            &chunk(json!({"content": "wer"}), Some("stop")).to_string(),
        )),
        Part::Bytes(sse_event("[DONE]")),
    ];
    let server = FakeServer::start([Reply::stream(parts)]).await;
    let app = std::sync::Arc::new(app_with_model(&server));
    let id = new_session(&app).await;
    let talking = {
        let (app, id) = (app.clone(), id.clone());
        tokio::spawn(async move { say(&app, &id, "explain").await })
    };
    let started = std::time::Instant::now();
    loop {
        let (_, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
        if session["busy"] == json!(true) && server.chat_requests().len() == 1 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "the message never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = app
        .post(&format!("/api/chat/sessions/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let events = tokio::time::timeout(std::time::Duration::from_secs(10), talking)
        .await
        .expect("stop ends the stream at once")
        .unwrap();
    assert_eq!(
        events.last().unwrap().1,
        json!({"type": "done", "stopped": true})
    );
    let (_, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
    let last = session["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["role"].as_str(),
            last["content"].as_str(),
            last["stopped"].as_bool()
        ),
        (Some("assistant"), Some("Partial ans"), Some(true))
    );
    assert_eq!(session["busy"], json!(false));
}

#[tokio::test]
async fn a_repeated_call_is_not_run_again_and_the_model_is_asked_to_answer() {
    let server = FakeServer::start([
        native_call("call_1", "list_files", &json!({"glob": "*.py"})),
        // The same call written twice in one answer is taken once, then refused as a repeat.
        Reply::answer("{\"name\": \"list_files\", \"arguments\": {\"glob\": \"*.py\"}}\n{\"name\": \"list_files\", \"arguments\": {\"glob\": \"*.py\"}}"),
        Reply::answer("There is one Python file."),
    ])
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "How many Python files are there?").await;
    let results = tool_results(&events);
    assert_eq!(results[0]["files"], json!(["calc.py"]));
    assert_eq!(results[1]["error"], "repeated_call");
    assert_eq!(
        results.len(),
        2,
        "the copy in the same answer is not another call: {results:?}"
    );
    assert_eq!(of(&events, "tool_call").len(), 1, "the repeat was not run");
    let third = &server.chat_requests()[2].body;
    assert!(third.get("tools").is_none(), "no tools offered: {third}");
    let last = third["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["role"].as_str(), last["content"].as_str()),
        (Some("user"), Some(noctune_studio::chat::turn::ANSWER_NOW))
    );
    let (_, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
    let final_answer = session["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(final_answer["content"], "There is one Python file.");
}

#[tokio::test]
async fn a_message_naming_a_file_prefills_the_first_answer_with_a_tool_call() {
    use noctune_studio::chat::prefill::PREFILL;
    let server = FakeServer::start([
        // The model continues the prefill: the rest of the call, as text.
        Reply::answer("read_file\", \"arguments\": {\"path\": \"calc.py\"}}\n</tool_call>"),
        Reply::answer("`add` adds."),
        // A server that refuses the prefill is asked again without it.
        Reply::error(
            400,
            "Assistant response prefill is incompatible with this template",
        ),
        native_call("call_2", "read_file", &json!({"path": "calc.py"})),
        Reply::answer("Still adds."),
        Reply::answer("Hello!"),
    ])
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "What does add in calc.py do?").await;
    let requests = server.chat_requests();
    let last = requests[0].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["role"].as_str(), last["content"].as_str()),
        (Some("assistant"), Some(PREFILL))
    );
    let results = tool_results(&events);
    assert_eq!(results[0]["path"], "calc.py", "{results:?}");
    let second_last = requests[1].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_ne!(
        second_last["role"], "assistant",
        "only the first answer is prefilled"
    );

    let events = say(&app, &id, "And calc.py once more?").await;
    assert_eq!(of(&events, "retry").len(), 1);
    assert_eq!(tool_results(&events)[0]["path"], "calc.py");
    let requests = server.chat_requests();
    let refused = requests[2].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(refused["content"].as_str(), Some(PREFILL));
    let retried = requests[3].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (retried["role"].as_str(), retried["content"].as_str()),
        (Some("user"), Some("And calc.py once more?")),
        "asked again without the prefill"
    );

    // A message that names no file and no tool is not prefilled.
    say(&app, &id, "hello").await;
    let requests = server.chat_requests();
    let plain = requests.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(plain["role"], "user");
}

#[tokio::test]
async fn a_server_failing_on_native_tools_is_asked_again_with_the_calls_in_the_text() {
    let server = FakeServer::start([
        Reply::error(
            500,
            "The model produced output that does not match the expected peg-native format",
        ),
        Reply::answer("<tool_call>\n{\"name\": \"list_files\", \"arguments\": {\"glob\": \"*.py\"}}\n</tool_call>"),
        Reply::answer("One file: calc.py."),
    ])
    .await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let events = say(&app, &id, "How many Python files are there?").await;
    assert_eq!(of(&events, "retry").len(), 1);
    assert_eq!(tool_results(&events)[0]["files"], json!(["calc.py"]));
    let requests = server.chat_requests();
    assert!(requests[0].body.get("tools").is_some());
    assert!(
        requests[1].body.get("tools").is_none(),
        "asked again without native tools"
    );
    assert!(
        requests[2].body.get("tools").is_none(),
        "for the rest of the message"
    );
    // The prompt still lists the tools with their arguments.
    let system = requests[1].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains("read_file(path, start?, end?)"), "{system}");
    // The results come back as text, followed by the request to answer.
    let last = requests[2].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let text = last["content"].as_str().unwrap();
    assert!(text.starts_with("<tool_response>\n"), "{text}");
    assert!(text.ends_with(noctune_studio::chat::turn::GO_ON), "{text}");
    assert_eq!(of(&events, "done").len(), 1);
    assert!(of(&events, "error").is_empty());
}

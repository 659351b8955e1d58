//! One user message: ask the model (streaming its tokens), run the tool calls it makes
//! (native `tool_calls`, or written in its text), give it the results, and ask again, at most
//! [`MAX_TOOL_ROUNDS`] times. Every step is saved to the session as it happens. The tools of
//! the configured external MCP servers are listed (their servers started) when the turn
//! begins; a server that cannot start is an `error` event naming it, and the turn goes on
//! without its tools.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use noctune_core::config::{LlmSettings, McpServerSettings};
use noctune_core::{ChatMessage, ChatRequest, LlmClient, LlmErrorKind, Role, ToolCall};
use noctune_llm::{OpenAiClient, StreamEvent};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::events::ChatEvent;
use super::external::ExternalTool;
use super::prefill::{PREFILL, wants_tool};
use super::prompt::system_prompt;
use super::session::ChatEntry;
use super::tool_call_parse::{self, TextCall};
use super::tools::{TOOL_NAMES, ToolContext, specs};

/// Said after a repeated call, with no tools offered: small models otherwise write the
/// same call again as text.
pub const ANSWER_NOW: &str = "Now answer my question in plain words from the tool results above, without JSON or tool calls.";

/// Follows the latest results of calls written in the text: a model that writes its calls
/// as text (a small one) otherwise tends to write a call to the function it was asked about.
pub const GO_ON: &str = "Now answer my question in plain words from the tool results above; write another <tool_call> only if they are not enough.";

/// The most model calls one user message may cause (each after a round of tool calls).
pub const MAX_TOOL_ROUNDS: usize = 6;

/// What a turn needs.
#[derive(Debug)]
pub struct Turn {
    /// The tools' context (session, sandbox, run control).
    pub ctx: ToolContext,
    /// The model.
    pub llm: LlmSettings,
    /// The external MCP servers whose tools are offered (`[studio.mcp_servers]`).
    pub mcp_servers: BTreeMap<String, McpServerSettings>,
    /// Where the events go (the message's SSE stream).
    pub events: mpsc::UnboundedSender<ChatEvent>,
    /// Becomes `true` when the user presses stop or the daemon shuts down.
    pub stop: watch::Receiver<bool>,
}

impl Turn {
    fn emit(&self, event: ChatEvent) {
        // The page may have gone; the turn still finishes and saves.
        let _ = self.events.send(event);
    }

    fn add(&self, entry: ChatEntry) {
        let saved = self.ctx.chat.sessions.update(&self.ctx.session_id, |s| {
            if s.entries.is_empty() && entry.role == Role::User {
                s.title = title_of(&entry.content);
            }
            s.entries.push(entry.clone());
        });
        match saved {
            Ok(()) => self.emit(ChatEvent::Entry { entry }),
            Err(err) => self.emit(ChatEvent::Error {
                code: "save_failed".into(),
                message: err.to_string(),
            }),
        }
    }

    /// Runs the turn for `text` and ends with a `done` event.
    pub async fn run(mut self, text: String) {
        let prefill = wants_tool(&text, &self.ctx.sandbox);
        self.add(ChatEntry::new(Role::User, text));
        let external = self.external_tools().await;
        let stopped = self.rounds(prefill, &external).await;
        self.emit(ChatEvent::Done { stopped });
    }

    /// The tools of the external MCP servers (started if need be); an `error` event for
    /// each server that could not start.
    async fn external_tools(&self) -> Vec<ExternalTool> {
        if self.mcp_servers.is_empty() {
            return Vec::new();
        }
        let (tools, errors) = self.ctx.chat.mcp.tools(&self.mcp_servers).await;
        for err in errors {
            tracing::warn!("{err}");
            self.emit(ChatEvent::Error {
                code: err.code.to_owned(),
                message: err.message,
            });
        }
        tools
    }

    /// The model/tool rounds; `true` when stopped. With `prefill`, the first answer starts
    /// with [`PREFILL`].
    async fn rounds(&mut self, mut prefill: bool, external: &[ExternalTool]) -> bool {
        let partial = Arc::new(Mutex::new(String::new()));
        let client = match self.client(partial.clone()) {
            Ok(client) => client,
            Err(message) => {
                self.emit(ChatEvent::Error {
                    code: "model_error".into(),
                    message,
                });
                return false;
            }
        };
        let mut round = 0;
        // Calls already answered in this message: a small model tends to repeat one; the
        // repeat is not run again, and the next request offers no tools, so it answers.
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut answer_now = false;
        // Tools go in the request's `tools` until the server fails on them (llama.cpp answers
        // 500 when the model writes a call its template parser cannot read, such as a call to
        // a tool that does not exist); then the calls are read from the text alone.
        let mut native = true;
        while round < MAX_TOOL_ROUNDS {
            let answering = std::mem::take(&mut answer_now);
            let mut request = self.request(answering, native, external);
            if prefill {
                request.messages.push(ChatMessage::assistant(PREFILL));
                self.emit(ChatEvent::Token {
                    text: PREFILL.to_owned(),
                });
            }
            if let Ok(mut text) = partial.lock() {
                text.clear();
            }
            let mut stop = self.stop.clone();
            let answer = tokio::select! {
                answer = client.chat(&request) => answer,
                () = crate::worker::until_true(&mut stop) => {
                    let text = partial.lock().map(|t| t.clone()).unwrap_or_default();
                    let mut entry = ChatEntry::new(Role::Assistant, text);
                    entry.stopped = true;
                    self.add(entry);
                    return true;
                }
            };
            let mut answer = match answer {
                Ok(answer) => answer,
                Err(err) if prefill && matches!(err.kind, LlmErrorKind::Rejected { .. }) => {
                    tracing::info!(
                        "the model server refused the prefill; asking again without it: {err}"
                    );
                    prefill = false;
                    self.emit(ChatEvent::Retry {
                        message: err.to_string(),
                    });
                    continue;
                }
                Err(err)
                    if native
                        && !request.tools.is_empty()
                        && matches!(err.kind, LlmErrorKind::Server { .. }) =>
                {
                    tracing::info!(
                        "the model server failed with native tools; asking again with the calls in the text: {err}"
                    );
                    native = false;
                    answer_now = answering;
                    self.emit(ChatEvent::Retry {
                        message: err.to_string(),
                    });
                    continue;
                }
                Err(err) => {
                    self.emit(ChatEvent::Error {
                        code: "model_error".into(),
                        message: err.to_string(),
                    });
                    return false;
                }
            };
            if std::mem::take(&mut prefill) && answer.tool_calls.is_empty() {
                answer.content = format!("{PREFILL}{}", answer.content);
            }
            round += 1;
            let mut entry = ChatEntry::new(Role::Assistant, answer.content.clone());
            let calls = if answering {
                Vec::new()
            } else if answer.tool_calls.is_empty() {
                entry.in_text = true;
                text_calls(&answer.content, round - 1, external)
            } else {
                answer
                    .tool_calls
                    .iter()
                    .map(|call| Call {
                        call: call.clone(),
                        arguments: serde_json::from_str(&call.arguments).map_err(|err| {
                            format!("the arguments of `{}` are not JSON: {err}", call.name)
                        }),
                    })
                    .collect()
            };
            if calls.is_empty() {
                entry.in_text = false;
                self.add(entry);
                return false;
            }
            entry.tool_calls = calls.iter().map(|c| c.call.clone()).collect();
            let in_text = entry.in_text;
            self.add(entry);
            for call in calls {
                if *self.stop.borrow() {
                    return true;
                }
                let key = (
                    call.call.name.clone(),
                    call.arguments
                        .as_ref()
                        .map_or_else(Clone::clone, ToString::to_string),
                );
                let result = if seen.insert(key) {
                    self.call(&call).await
                } else {
                    answer_now = true;
                    serde_json::json!({"error": "repeated_call", "message": format!(
                        "`{}` was already called with these arguments in this message; its result is above. Answer the user's question now, without tools.",
                        call.call.name
                    )})
                };
                let mut entry = ChatEntry::new(Role::Tool, result.to_string());
                entry.tool_call_id = Some(call.call.id.clone());
                entry.tool_name = Some(call.call.name.clone());
                entry.in_text = in_text;
                self.add(entry);
            }
        }
        self.emit(ChatEvent::Error {
            code: "tool_loop_cap".into(),
            message: format!(
                "the model called tools {MAX_TOOL_ROUNDS} times for one message; send a message to let it go on"
            ),
        });
        false
    }

    async fn call(&self, call: &Call) -> Value {
        let arguments = match &call.arguments {
            Ok(arguments) => arguments.clone(),
            Err(error) => {
                return serde_json::json!({"error": "malformed_tool_call", "message": format!(
                    "{error}. Write the call again as valid JSON: {{\"name\": ..., \"arguments\": {{...}}}}"
                )});
            }
        };
        self.emit(ChatEvent::ToolCall {
            id: call.call.id.clone(),
            name: call.call.name.clone(),
            arguments: arguments.clone(),
        });
        let outcome = self.ctx.execute(&call.call.name, arguments).await;
        if let Some(permission) = outcome.needs {
            self.emit(ChatEvent::PermissionNeeded {
                permission,
                tool: call.call.name.clone(),
            });
        }
        outcome.result
    }

    fn client(&self, partial: Arc<Mutex<String>>) -> Result<OpenAiClient, String> {
        let mut llm = self.llm.clone();
        llm.stream = true;
        llm.verbose_stream = true;
        llm.stream_print_reasoning = false;
        let events = self.events.clone();
        let observer = move |event: StreamEvent<'_>| match event {
            StreamEvent::Content(text) => {
                if let Ok(mut partial) = partial.lock() {
                    partial.push_str(text);
                }
                let _ = events.send(ChatEvent::Token {
                    text: text.to_owned(),
                });
            }
            StreamEvent::Retry { error, .. } => {
                if let Ok(mut partial) = partial.lock() {
                    partial.clear();
                }
                let _ = events.send(ChatEvent::Retry {
                    message: error.to_string(),
                });
            }
            StreamEvent::Reasoning(_) => {}
        };
        OpenAiClient::builder(llm.first_endpoint()?)
            .observer(Arc::new(observer))
            .build()
            .map_err(|err| err.to_string())
    }

    /// The next request: the system prompt, the session so far, and the tools (unless not
    /// `native`: then the prompt alone describes them); with `answer_now`, no tools and
    /// [`ANSWER_NOW`] last. The external tools follow the built-in ones.
    fn request(&self, answer_now: bool, native: bool, external: &[ExternalTool]) -> ChatRequest {
        let session = self.ctx.chat.sessions.get(&self.ctx.session_id);
        let entries = session.map(|s| s.entries).unwrap_or_default();
        let roots: Vec<String> = self
            .ctx
            .sandbox
            .roots()
            .iter()
            .map(|r| format!("`{}`", self.ctx.sandbox.shown(r)))
            .collect();
        // The repository by its name: an absolute path invites a small model to pass it as a
        // tool's `path` (paths are relative to the root), and it changes from checkout to
        // checkout.
        let repo = self.ctx.sandbox.repo_root();
        let name = repo.file_name().map_or_else(
            || repo.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut messages = vec![ChatMessage::system(system_prompt(&name, &roots, external))];
        messages.extend(wire_messages(&entries));
        if answer_now {
            messages.push(ChatMessage::user(ANSWER_NOW));
        }
        ChatRequest {
            messages,
            tools: if answer_now || !native {
                Vec::new()
            } else {
                let mut tools = specs();
                tools.extend(external.iter().map(|t| t.spec.clone()));
                tools
            },
            purpose: Some("chat".into()),
            ..ChatRequest::default()
        }
    }
}

/// A call to run: its wire form, and its arguments or why they cannot be read.
struct Call {
    call: ToolCall,
    arguments: Result<Value, String>,
}

/// The calls written in an answer; a call written several times over (small models do) is
/// taken once.
fn text_calls(content: &str, round: usize, external: &[ExternalTool]) -> Vec<Call> {
    let mut known: Vec<&str> = TOOL_NAMES.to_vec();
    known.extend(external.iter().map(|t| t.spec.name.as_str()));
    let mut parsed = tool_call_parse::parse(content, &known);
    let mut seen = Vec::new();
    parsed.retain(|call| match call {
        Ok(call) => {
            let key = (call.name.clone(), call.arguments.clone());
            let new = !seen.contains(&key);
            seen.push(key);
            new
        }
        Err(_) => true,
    });
    parsed
        .into_iter()
        .enumerate()
        .map(|(i, parsed)| {
            let id = format!("text-{round}-{i}");
            match parsed {
                Ok(TextCall { name, arguments }) => Call {
                    call: ToolCall {
                        id,
                        name,
                        arguments: arguments.to_string(),
                    },
                    arguments: Ok(arguments),
                },
                Err(malformed) => Call {
                    call: ToolCall {
                        id,
                        name: "malformed_tool_call".into(),
                        arguments: malformed.raw,
                    },
                    arguments: Err(malformed.error),
                },
            }
        })
        .collect()
}

/// The session's entries as the model reads them: native calls and their results as
/// `tool_calls` and `tool` messages; calls written in the text stay text, and their results
/// come back as one user message of `<tool_response>` blocks (the Qwen/Hermes convention),
/// the latest followed by [`GO_ON`].
pub fn wire_messages(entries: &[ChatEntry]) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> = Vec::new();
    let mut responses = String::new();
    for entry in entries {
        if entry.role == Role::Tool && entry.in_text {
            responses.push_str(&format!(
                "<tool_response>\n{}\n</tool_response>\n",
                entry.content
            ));
            continue;
        }
        if !responses.is_empty() {
            messages.push(ChatMessage::user(std::mem::take(&mut responses)));
        }
        let mut message = ChatMessage::new(entry.role, entry.content.clone());
        if entry.role == Role::Assistant && !entry.in_text {
            message.tool_calls = entry.tool_calls.clone();
        }
        if entry.role == Role::Tool {
            message.content = readable(&entry.content);
            message.tool_call_id = entry.tool_call_id.clone();
        }
        messages.push(message);
    }
    if !responses.is_empty() {
        responses.push_str(GO_ON);
        messages.push(ChatMessage::user(responses));
    }
    messages
}

/// A tool result as the model reads it: a result with a `content` text (a file) gives its
/// other fields as `key: value` lines and then the text itself, unescaped (small models
/// read code badly inside a JSON string); anything else stays JSON.
fn readable(result: &str) -> String {
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(result) else {
        return result.to_owned();
    };
    let Some(Value::String(content)) = fields.remove("content") else {
        return result.to_owned();
    };
    let mut text = String::new();
    for (key, value) in &fields {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        text.push_str(&format!("{key}: {value}\n"));
    }
    text.push_str(&content);
    text
}

fn title_of(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    if title.is_empty() {
        "New chat".to_owned()
    } else {
        title
    }
}

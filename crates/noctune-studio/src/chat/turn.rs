//! One user message: ask the model (streaming its tokens), run the tool calls it makes
//! (native `tool_calls`, or written in its text), give it the results, and ask again, at most
//! [`MAX_TOOL_ROUNDS`] times. Every step is saved to the session as it happens.

use std::sync::{Arc, Mutex};

use noctune_core::config::LlmSettings;
use noctune_core::{ChatMessage, ChatRequest, LlmClient, Role, ToolCall};
use noctune_llm::{OpenAiClient, StreamEvent};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::events::ChatEvent;
use super::prompt::system_prompt;
use super::session::ChatEntry;
use super::tool_call_parse::{self, TextCall};
use super::tools::{TOOL_NAMES, ToolContext, specs};

/// The most model calls one user message may cause (each after a round of tool calls).
pub const MAX_TOOL_ROUNDS: usize = 6;

/// What a turn needs.
#[derive(Debug)]
pub struct Turn {
    /// The tools' context (session, sandbox, run control).
    pub ctx: ToolContext,
    /// The model.
    pub llm: LlmSettings,
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
        self.add(ChatEntry::new(Role::User, text));
        let stopped = self.rounds().await;
        self.emit(ChatEvent::Done { stopped });
    }

    /// The model/tool rounds; `true` when stopped.
    async fn rounds(&mut self) -> bool {
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
        for round in 0..MAX_TOOL_ROUNDS {
            let request = self.request();
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
            let answer = match answer {
                Ok(answer) => answer,
                Err(err) => {
                    self.emit(ChatEvent::Error {
                        code: "model_error".into(),
                        message: err.to_string(),
                    });
                    return false;
                }
            };
            let mut entry = ChatEntry::new(Role::Assistant, answer.content.clone());
            let calls = if answer.tool_calls.is_empty() {
                entry.in_text = true;
                text_calls(&answer.content, round)
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
                let result = self.call(&call).await;
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
        OpenAiClient::builder(llm)
            .observer(Arc::new(observer))
            .build()
            .map_err(|err| err.to_string())
    }

    fn request(&self) -> ChatRequest {
        let session = self.ctx.chat.sessions.get(&self.ctx.session_id);
        let entries = session.map(|s| s.entries).unwrap_or_default();
        let roots: Vec<String> = self
            .ctx
            .sandbox
            .roots()
            .iter()
            .map(|r| format!("`{}`", self.ctx.sandbox.shown(r)))
            .collect();
        let mut messages = vec![ChatMessage::system(system_prompt(
            &self.ctx.sandbox.repo_root().display().to_string(),
            &roots,
        ))];
        messages.extend(wire_messages(&entries));
        ChatRequest {
            messages,
            tools: specs(),
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

fn text_calls(content: &str, round: usize) -> Vec<Call> {
    tool_call_parse::parse(content, TOOL_NAMES)
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
/// come back as one user message of `<tool_response>` blocks (the Qwen/Hermes convention).
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
            message.tool_call_id = entry.tool_call_id.clone();
        }
        messages.push(message);
    }
    if !responses.is_empty() {
        messages.push(ChatMessage::user(responses));
    }
    messages
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

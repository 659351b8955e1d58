//! Structured calls on any [`LlmClient`]: a Rust type from a JSON answer, code from a fenced
//! block.
//!
//! Short structured fields travel as JSON constrained by a schema generated from the Rust type;
//! code always travels as one fenced python block, constrained by [`PYTHON_BLOCK_GBNF`] where the
//! server accepts a grammar (small models flatten code inside JSON strings). Clients that cannot
//! enforce either send plain text; the answer is then parsed leniently
//! ([`crate::answer`]), so these helpers work with any client.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::{AnswerFormat, ChatRequest, ChatResponse, LlmClient, LlmError, LlmErrorKind};
use crate::answer::{extract_json, extract_python_block};

/// A GBNF grammar for "exactly one fenced python block, nothing else" (llama.cpp's `grammar`).
///
/// No line of the code may start with a backtick, so the block can only end at its closing fence.
pub const PYTHON_BLOCK_GBNF: &str = r#"root ::= "```python\n" line* "```"
line ::= ([^`\n] [^\n]*)? "\n"
"#;

/// A structured answer and the response it came from (text, usage, timings).
#[derive(Debug, Clone, PartialEq)]
pub struct Structured<T> {
    /// The parsed value.
    pub value: T,
    /// The whole response.
    pub response: ChatResponse,
}

/// A code answer: the code of its one python block and the response it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeAnswer {
    /// The code, without fences, ending with a newline.
    pub code: String,
    /// The whole response (keep `response.content` as the raw artifact).
    pub response: ChatResponse,
}

/// The JSON answer format for `T`: `response_format` `json_schema` with `T`'s schema.
pub fn json_schema_format<T: JsonSchema>() -> AnswerFormat {
    let schema = schemars::schema_for!(T);
    let name: String = T::schema_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    AnswerFormat::JsonSchema {
        name,
        schema: schema.to_value(),
    }
}

/// Asks for a `T` (JSON constrained by `T`'s schema) and parses the answer leniently.
///
/// A truncated answer (`finish_reason = length`) is still parsed when the repair can close it;
/// an answer that cannot be turned into a `T` is [`LlmErrorKind::Unusable`].
pub async fn chat_structured<T>(client: &dyn LlmClient, request: ChatRequest) -> Result<T, LlmError>
where
    T: JsonSchema + DeserializeOwned,
{
    Ok(chat_structured_full(client, request).await?.value)
}

/// Like [`chat_structured`], also returning the response.
pub async fn chat_structured_full<T>(
    client: &dyn LlmClient,
    request: ChatRequest,
) -> Result<Structured<T>, LlmError>
where
    T: JsonSchema + DeserializeOwned,
{
    let request = request.with_answer(json_schema_format::<T>());
    let response = client.chat(&request).await?;
    let value = parse_structured(&response)?;
    Ok(Structured { value, response })
}

/// Parses a response's content as a `T`, leniently.
pub fn parse_structured<T: DeserializeOwned>(response: &ChatResponse) -> Result<T, LlmError> {
    let truncated = if response.is_truncated() {
        " (the answer was cut by max_tokens)"
    } else {
        ""
    };
    let json = extract_json(&response.content)
        .map_err(|err| LlmError::new(LlmErrorKind::Unusable, format!("{err}{truncated}")))?;
    serde_json::from_value(json).map_err(|err| {
        LlmError::new(
            LlmErrorKind::Unusable,
            format!("the JSON answer does not have the expected shape: {err}{truncated}"),
        )
    })
}

/// Asks for code as exactly one fenced python block (grammar-constrained where the server
/// accepts it) and extracts it. No block, several blocks or an unclosed block is
/// [`LlmErrorKind::Unusable`].
pub async fn chat_code(
    client: &dyn LlmClient,
    request: ChatRequest,
) -> Result<CodeAnswer, LlmError> {
    let request = request.with_answer(AnswerFormat::Grammar {
        gbnf: PYTHON_BLOCK_GBNF.to_owned(),
    });
    let response = client.chat(&request).await?;
    let code = extract_python_block(&response.content).map_err(|err| {
        let truncated = if response.is_truncated() {
            " (the answer was cut by max_tokens)"
        } else {
            ""
        };
        LlmError::new(LlmErrorKind::Unusable, format!("{err}{truncated}"))
    })?;
    Ok(CodeAnswer { code, response })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use pretty_assertions::assert_eq;
    use serde::Deserialize;
    use std::sync::Mutex;

    /// Answers with a fixed text and keeps the last request.
    struct Canned {
        answer: String,
        seen: Mutex<Option<ChatRequest>>,
    }

    #[async_trait]
    impl LlmClient for Canned {
        async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
            *self.seen.lock().unwrap() = Some(request.clone());
            Ok(ChatResponse::text(self.answer.clone()))
        }
    }

    fn canned(answer: &str) -> Canned {
        Canned {
            answer: answer.to_owned(),
            seen: Mutex::new(None),
        }
    }

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Review {
        label: String,
        reasons: Vec<String>,
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn structured_sets_the_schema_and_parses_leniently() {
        let client = canned("Sure:\n```json\n{'label': 'P', 'reasons': ['naming',],}\n```");
        let review: Review =
            block_on(chat_structured(&client, ChatRequest::user("review"))).unwrap();
        assert_eq!(
            review,
            Review {
                label: "P".into(),
                reasons: vec!["naming".into()]
            }
        );
        let seen = client.seen.lock().unwrap().clone().unwrap();
        let AnswerFormat::JsonSchema { name, schema } = seen.answer else {
            panic!("expected a JSON schema answer format");
        };
        assert_eq!(name, "Review");
        assert_eq!(schema["required"], serde_json::json!(["label", "reasons"]));
    }

    #[test]
    fn structured_wrong_shape_is_unusable() {
        let client = canned("{\"label\": 3}");
        let err = block_on(chat_structured::<Review>(&client, ChatRequest::user("r"))).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Unusable);
    }

    #[test]
    fn code_sets_the_grammar_and_extracts_the_block() {
        let client = canned("```python\ndef f():\n    return 1\n```");
        let answer = block_on(chat_code(&client, ChatRequest::user("write f"))).unwrap();
        assert_eq!(answer.code, "def f():\n    return 1\n");
        let seen = client.seen.lock().unwrap().clone().unwrap();
        assert_eq!(
            seen.answer,
            AnswerFormat::Grammar {
                gbnf: PYTHON_BLOCK_GBNF.to_owned()
            }
        );
        let err = block_on(chat_code(&canned("no code"), ChatRequest::user("x"))).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Unusable);
    }
}

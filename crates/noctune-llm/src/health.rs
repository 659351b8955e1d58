//! The check of one endpoint at a run's start: does it answer, which models does it serve, how
//! large is its context, how many requests does it take at once.

use serde_json::Value;

use crate::budget::{side_json, window_of};
use crate::client::OpenAiClient;
use noctune_core::LlmError;

/// What an endpoint said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointFacts {
    /// The model ids of `GET /v1/models` (empty when it has no such list).
    pub models: Vec<String>,
    /// Its context window (`n_ctx` of llama.cpp's `GET /props`), when it says.
    pub context_tokens: Option<u32>,
    /// Requests it answers at once (`total_slots` of `GET /props`), when it says.
    pub total_slots: Option<u32>,
}

impl EndpointFacts {
    /// A warning when the configured `model` is not among the ones the server lists (many
    /// servers answer whatever the name; the user should still know).
    pub fn model_warning(&self, configured: Option<&str>) -> Option<String> {
        let configured = configured?;
        (!self.models.is_empty() && !self.models.iter().any(|m| m == configured)).then(|| {
            format!(
                "it serves {}, not the configured model `{configured}`",
                self.models
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// Checks `client`'s endpoint: it must answer HTTP within 10 seconds (else the error names the
/// URL); `/v1/models` and `/props` are read when the server has them.
pub async fn check_endpoint(client: &OpenAiClient) -> Result<EndpointFacts, LlmError> {
    client.reachable().await?;
    let base = client.settings().base_url.trim_end_matches('/').to_owned();
    let models = side_json(client.http().get(format!("{base}/models")))
        .await
        .ok()
        .flatten()
        .unwrap_or(Value::Null);
    let props = side_json(client.http().get(format!("{}/props", client.root_url())))
        .await
        .ok()
        .flatten()
        .unwrap_or(Value::Null);
    Ok(EndpointFacts {
        models: models
            .get("data")
            .and_then(Value::as_array)
            .map(|data| {
                data.iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        context_tokens: window_of(&props),
        total_slots: props
            .get("total_slots")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_the_server_does_not_list_is_named() {
        let facts = EndpointFacts {
            models: vec!["qwen".into()],
            ..EndpointFacts::default()
        };
        assert_eq!(facts.model_warning(Some("qwen")), None);
        assert_eq!(facts.model_warning(None), None);
        assert_eq!(
            facts.model_warning(Some("llama")).as_deref(),
            Some("it serves `qwen`, not the configured model `llama`")
        );
        assert_eq!(EndpointFacts::default().model_warning(Some("x")), None);
    }
}

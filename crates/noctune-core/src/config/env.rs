//! Environment overrides: `NOCTUNE_BASE_URL`, `NOCTUNE_API_KEY`, `NOCTUNE_HEADERS_JSON`.

use std::collections::BTreeMap;

use super::ConfigError;

/// The environment variables that override the config file, captured once.
///
/// Capturing them in a value (instead of reading `std::env` deep inside) keeps resolution pure
/// and lets tests pass their own without touching the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    /// `NOCTUNE_BASE_URL`.
    pub base_url: Option<String>,
    /// `NOCTUNE_API_KEY`.
    pub api_key: Option<String>,
    /// `NOCTUNE_HEADERS_JSON`, unparsed.
    pub headers_json: Option<String>,
}

impl EnvOverrides {
    /// Reads the three variables from the process environment. Empty values count as unset.
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the three variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            base_url: get("NOCTUNE_BASE_URL"),
            api_key: get("NOCTUNE_API_KEY"),
            headers_json: get("NOCTUNE_HEADERS_JSON"),
        }
    }

    /// Parses `NOCTUNE_HEADERS_JSON`: a JSON object whose values are strings.
    pub fn headers(&self) -> Result<Option<BTreeMap<String, String>>, ConfigError> {
        let Some(raw) = &self.headers_json else {
            return Ok(None);
        };
        let error = |message: String| ConfigError {
            source_name: "NOCTUNE_HEADERS_JSON".to_owned(),
            key: None,
            message,
        };
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|err| error(format!("expected a JSON object of headers, {err}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(error(format!(
                "expected a JSON object of headers like {{\"X-Team\": \"ml\"}}, found {}",
                json_kind(&value)
            )));
        };
        let mut headers = BTreeMap::new();
        for (name, value) in map {
            let serde_json::Value::String(value) = value else {
                return Err(error(format!(
                    "header `{name}`: expected a string value, found {}",
                    json_kind(&value)
                )));
            };
            headers.insert(name, value);
        }
        Ok(Some(headers))
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

//! Configuration: discovery, raw options, environment overrides and resolved settings.
//!
//! Discovery: `noctune.toml` at the root (keys at the top level or under `[tool.noctune]`),
//! else `[tool.noctune]` in `pyproject.toml`, else the defaults. Then `NOCTUNE_BASE_URL`,
//! `NOCTUNE_API_KEY` and `NOCTUNE_HEADERS_JSON` override the default model's settings.
//!
//! Every error names the file (or variable), the key and what was expected.

mod env;
mod mcp_servers;
pub mod options;
mod settings;

use std::fmt;
use std::path::{Path, PathBuf};

pub use env::EnvOverrides;
pub use mcp_servers::{
    DEFAULT_MCP_TIMEOUT, MAX_MCP_SERVER_NAME, McpServerSettings, is_mcp_server_name,
};
pub use options::Options;
pub use settings::{
    Budgets, DEFAULT_BASE_URL, DEFAULT_PACK, EndpointSettings, IndexSettings, LlmSettings,
    Settings, StudioSettings, TaskSettings,
};

/// The file name of Noctune's own config file.
pub const CONFIG_FILE: &str = "noctune.toml";

/// The documented config file that `noctune init` writes: every key, with its default.
pub const TEMPLATE: &str = include_str!("template.toml");

/// An invalid configuration: which file or variable, which key, what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The config file's path, or the environment variable's name.
    pub source_name: String,
    /// The dotted key at fault (`tool.noctune.llm.timeout_s`), when one is.
    pub key: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}: key `{key}`: {}", self.source_name, self.message),
            None => write!(f, "{}: {}", self.source_name, self.message),
        }
    }
}

/// Where the settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `noctune.toml`; `nested` when its keys sit under `[tool.noctune]`.
    NoctuneToml {
        /// The file.
        path: PathBuf,
        /// Whether keys sit under `[tool.noctune]`.
        nested: bool,
    },
    /// `[tool.noctune]` in `pyproject.toml`.
    Pyproject {
        /// The file.
        path: PathBuf,
    },
    /// No config file: the defaults.
    Defaults,
}

impl ConfigSource {
    /// The path, when there is a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::NoctuneToml { path, .. } | ConfigSource::Pyproject { path } => Some(path),
            ConfigSource::Defaults => None,
        }
    }

    fn display_name(&self) -> String {
        self.path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "defaults".to_owned())
    }

    fn key_prefix(&self) -> &'static str {
        match self {
            ConfigSource::NoctuneToml { nested: false, .. } | ConfigSource::Defaults => "",
            ConfigSource::NoctuneToml { nested: true, .. } | ConfigSource::Pyproject { .. } => {
                "tool.noctune."
            }
        }
    }
}

/// Finds and resolves the configuration of the repository at `root`.
pub fn load(root: &Path, env: &EnvOverrides) -> Result<Settings, ConfigError> {
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let noctune_toml = root.join(CONFIG_FILE);
    let pyproject = root.join("pyproject.toml");

    let (source, options) = if noctune_toml.is_file() {
        let text = read(&noctune_toml)?;
        let (options, nested) = parse_noctune_toml(&noctune_toml, &text)?;
        (
            ConfigSource::NoctuneToml {
                path: noctune_toml,
                nested,
            },
            options,
        )
    } else if pyproject.is_file() {
        let text = read(&pyproject)?;
        match parse_pyproject(&pyproject, &text)? {
            Some(options) => (ConfigSource::Pyproject { path: pyproject }, options),
            None => (ConfigSource::Defaults, Options::default()),
        }
    } else {
        (ConfigSource::Defaults, Options::default())
    };
    Settings::resolve(root, source, options, env)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|err| ConfigError {
        source_name: path.display().to_string(),
        key: None,
        message: format!("cannot read the file: {err}"),
    })
}

fn parse_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|err| ConfigError {
        source_name: path.display().to_string(),
        key: None,
        message: format!("invalid TOML: {}", err.to_string().trim_end()),
    })
}

/// Parses `noctune.toml`: keys at the top level, or all under `[tool.noctune]`.
pub fn parse_noctune_toml(path: &Path, text: &str) -> Result<(Options, bool), ConfigError> {
    let mut table = parse_table(path, text)?;
    let Some(tool) = table.remove("tool") else {
        return Ok((deserialize(path, "", table)?, false));
    };
    if let Some(key) = table.keys().next() {
        return Err(ConfigError {
            source_name: path.display().to_string(),
            key: Some(key.clone()),
            message: "expected every key under [tool.noctune] once the file uses [tool.noctune]"
                .to_owned(),
        });
    }
    let noctune = nested_noctune(path, tool)?;
    Ok((deserialize(path, "tool.noctune.", noctune)?, true))
}

/// Parses `[tool.noctune]` out of `pyproject.toml`; `None` when the table is absent.
pub fn parse_pyproject(path: &Path, text: &str) -> Result<Option<Options>, ConfigError> {
    let mut table = parse_table(path, text)?;
    let Some(tool) = table.remove("tool") else {
        return Ok(None);
    };
    let toml::Value::Table(mut tool) = tool else {
        return Ok(None);
    };
    let Some(noctune) = tool.remove("noctune") else {
        return Ok(None);
    };
    let mut wrapper = toml::Table::new();
    wrapper.insert("noctune".to_owned(), noctune);
    let noctune = nested_noctune(path, toml::Value::Table(wrapper))?;
    Ok(Some(deserialize(path, "tool.noctune.", noctune)?))
}

fn nested_noctune(path: &Path, tool: toml::Value) -> Result<toml::Table, ConfigError> {
    let error = |key: &str, message: &str| ConfigError {
        source_name: path.display().to_string(),
        key: Some(key.to_owned()),
        message: message.to_owned(),
    };
    let toml::Value::Table(mut tool) = tool else {
        return Err(error("tool", "expected a table"));
    };
    let noctune = tool
        .remove("noctune")
        .ok_or_else(|| error("tool", "expected a [tool.noctune] table"))?;
    if let Some(other) = tool.keys().next() {
        return Err(error(
            &format!("tool.{other}"),
            "unknown table; noctune.toml holds only [tool.noctune]",
        ));
    }
    match noctune {
        toml::Value::Table(table) => Ok(table),
        _ => Err(error("tool.noctune", "expected a table")),
    }
}

fn deserialize(path: &Path, prefix: &str, table: toml::Table) -> Result<Options, ConfigError> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|err| {
        let mut key = err.path().to_string();
        let message = err.inner().to_string();
        // serde names the table that holds an unknown field; name the field itself.
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some(field) = rest.split('`').next()
            && key != field
            && !key.ends_with(&format!(".{field}"))
        {
            key = if key == "." || key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
        }
        let key = if key == "." { String::new() } else { key };
        ConfigError {
            source_name: path.display().to_string(),
            key: Some(format!("{prefix}{key}").trim_end_matches('.').to_owned()),
            message,
        }
    })
}

#[cfg(test)]
mod tests;

//! The registry of packs for one repository: the built-in ones, adjusted and extended by
//! `[tool.noctune.policy_packs.<name>]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use noctune_core::policy::PolicyPackOptions;
use noctune_core::{PolicyPack, Settings};

use super::builtin::{BUILTIN_PACKS, builtin_settings};
use super::pack::{ConfiguredPack, PackSettings};
use crate::error::{Error, Result};

/// Every pack a run may use, by name.
#[derive(Debug, Clone)]
pub struct PolicyPacks {
    packs: BTreeMap<String, Arc<ConfiguredPack>>,
    default: String,
}

impl PolicyPacks {
    /// The built-in packs completed with `settings.policy_packs`, for `settings.root`.
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        Self::new(
            settings.root.clone(),
            &settings.policy_packs,
            &settings.pack,
        )
    }

    /// The built-in packs completed with `options` (as written in the config file).
    /// `default` is the pack runs use without `--pack`; it must exist.
    pub fn new(
        root: impl Into<PathBuf>,
        options: &BTreeMap<String, PolicyPackOptions>,
        default: &str,
    ) -> Result<Self> {
        let root = root.into();
        let mut packs = BTreeMap::new();
        let names = BUILTIN_PACKS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(options.keys().cloned());
        for name in names {
            if packs.contains_key(&name) {
                continue;
            }
            let settings = complete(builtin_settings(&name), options.get(&name));
            packs.insert(name, Arc::new(ConfiguredPack::new(settings, &root)?));
        }
        let registry = Self {
            packs,
            default: default.to_owned(),
        };
        registry.get_configured(default)?;
        Ok(registry)
    }

    /// The pack named `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<Arc<dyn PolicyPack>> {
        Ok(self.get_configured(name)?)
    }

    /// The pack named `name` as its concrete type (for `check_tool` and the settings).
    pub fn get_configured(&self, name: &str) -> Result<Arc<ConfiguredPack>> {
        self.packs
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownPack {
                name: name.to_owned(),
                known: self.names(),
            })
    }

    /// The pack runs use without `--pack` (the config's `pack`).
    pub fn default_pack(&self) -> Result<Arc<dyn PolicyPack>> {
        self.get(&self.default)
    }

    /// Every pack's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.packs.keys().cloned().collect()
    }
}

/// `defaults` with every field `options` sets replaced. Guidance is replaced stage by stage.
fn complete(mut defaults: PackSettings, options: Option<&PolicyPackOptions>) -> PackSettings {
    let Some(options) = options else {
        return defaults;
    };
    if let Some(globs) = &options.allowed_globs {
        defaults.allowed_globs = globs.clone();
    }
    if let Some(max) = options.max_diff_lines {
        defaults.max_diff_lines = max;
    }
    if let Some(tools) = &options.tools_allowed {
        defaults.tools_allowed = tools.clone();
    }
    if let Some(command) = &options.test_command {
        defaults.test_command = command.clone();
    }
    if let Some(timeout) = options.test_timeout_s {
        defaults.test_timeout_s = timeout;
    }
    if let Some(auto) = &options.auto_approve {
        let target = &mut defaults.auto_approve;
        if let Some(enabled) = auto.enabled {
            target.enabled = enabled;
        }
        if let Some(max_risk) = auto.max_risk {
            target.max_risk = max_risk;
        }
        if let Some(max_lines) = auto.max_lines {
            target.max_lines = max_lines;
        }
        if let Some(require_tests) = auto.require_tests {
            target.require_tests = require_tests;
        }
    }
    if let Some(guidance) = &options.guidance {
        for (stage, text) in guidance {
            defaults.guidance.insert(*stage, text.clone());
        }
    }
    defaults
}

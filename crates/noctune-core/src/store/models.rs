//! The calibration probe's records, one JSON file per (base URL, model id) under
//! `.noctune_cache/models/<key>.json`. The server fingerprint is kept inside: a record whose
//! fingerprint differs from the server's is stale, and the probe runs again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::run_store::{read_json_if_present, write_json};
use crate::error::{Error, Result};
use crate::llm::Calibration;

/// The longest model-name part of a key.
const MAX_NAME_CHARS: usize = 48;

/// What the cache holds for a key.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelLookup {
    /// A record with the same fingerprint.
    Hit(Box<Calibration>),
    /// No record, or one for another server fingerprint (probe again).
    Miss,
    /// A file that is not a probe record (probe again, and say so).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// `.noctune_cache/models/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCache {
    dir: PathBuf,
}

impl ModelCache {
    /// The cache in `dir` (`CacheLayout::models()`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The key of a model on an endpoint: the model id made safe for a file name, then 12 hex
    /// digits of a SHA-256 of the base URL and the id (`qwen2.5-coder-0.5b-1f2e3d4c5b6a`).
    pub fn key(base_url: &str, model: &str) -> String {
        let name: String = model
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(model)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(MAX_NAME_CHARS)
            .collect();
        let digest = Sha256::digest(format!("{base_url}\n{model}").as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        if name.is_empty() {
            hex
        } else {
            format!("{name}-{hex}")
        }
    }

    /// The file of `key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The record for `key` if it was made for a server with `fingerprint`.
    pub fn lookup(&self, key: &str, fingerprint: &str) -> ModelLookup {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return ModelLookup::Miss,
            Err(err) => {
                return ModelLookup::Corrupt {
                    message: format!("cannot read it: {err}"),
                    path,
                };
            }
        };
        match serde_json::from_slice::<Calibration>(&bytes) {
            Ok(record) if record.fingerprint == fingerprint => ModelLookup::Hit(Box::new(record)),
            Ok(_) => ModelLookup::Miss,
            Err(err) => ModelLookup::Corrupt {
                message: err.to_string(),
                path,
            },
        }
    }

    /// Writes `record` as `<record.key>.json`, atomically; returns the path.
    pub fn store(&self, record: &Calibration) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| Error::io("create directory", &self.dir, err))?;
        let path = self.path(&record.key);
        write_calibration(&path, record)?;
        Ok(path)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Writes a probe record as pretty JSON, atomically (the cache's files).
pub fn write_calibration(path: &Path, record: &Calibration) -> Result<()> {
    write_json(path, record)
}

/// Writes a run's probe records, one per endpoint that answered, as a pretty JSON array,
/// atomically (`state/model.json`).
pub fn write_run_calibrations(path: &Path, records: &[Calibration]) -> Result<()> {
    write_json(path, &records)
}

/// Reads a run's probe records written by [`write_run_calibrations`], or the single record of
/// a run started before several endpoints were recorded; empty when there is none.
pub fn read_run_calibrations(path: &Path) -> Result<Vec<Calibration>> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Records {
        Each(Vec<Calibration>),
        One(Box<Calibration>),
    }
    Ok(match read_json_if_present(path)? {
        None => Vec::new(),
        Some(Records::Each(records)) => records,
        Some(Records::One(record)) => vec![*record],
    })
}

/// Reads a probe record written by [`write_calibration`]; `Ok(None)` when there is none.
pub fn read_calibration(path: &Path) -> Result<Option<Calibration>> {
    read_json_if_present(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{FormatCheck, ProbeFormat};
    use pretty_assertions::assert_eq;

    fn record(key: &str, fingerprint: &str) -> Calibration {
        Calibration {
            key: key.into(),
            base_url: "http://127.0.0.1:8080/v1".into(),
            model: "qwen".into(),
            fingerprint: fingerprint.into(),
            probed_at: "2026-01-01T00:00:00Z".into(),
            formats: vec![FormatCheck {
                format: ProbeFormat::Grammar,
                works: false,
                reason: Some("HTTP 400: no grammar".into()),
            }],
            prompt_tokens_per_second: None,
            answer_tokens_per_second: Some(12.5),
            speed_source: None,
            context_tokens: Some(4096),
            probe_seconds: 0.5,
        }
    }

    #[test]
    fn keys_are_file_safe_and_differ_by_endpoint() {
        let a = ModelCache::key("http://a/v1", "models/Qwen2.5 Coder.gguf");
        assert!(a.starts_with("qwen2.5_coder.gguf-"), "{a}");
        assert_eq!(a.len(), "qwen2.5_coder.gguf-".len() + 12);
        assert_ne!(
            a,
            ModelCache::key("http://b/v1", "models/Qwen2.5 Coder.gguf")
        );
        assert_eq!(
            a,
            ModelCache::key("http://a/v1", "models/Qwen2.5 Coder.gguf")
        );
    }

    #[test]
    fn hit_miss_on_fingerprint_and_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(dir.path().join("models"));
        assert_eq!(cache.lookup("k", "f1"), ModelLookup::Miss);
        let path = cache.store(&record("k", "f1")).unwrap();
        assert_eq!(path, dir.path().join("models/k.json"));
        assert_eq!(
            cache.lookup("k", "f1"),
            ModelLookup::Hit(Box::new(record("k", "f1")))
        );
        assert_eq!(cache.lookup("k", "f2"), ModelLookup::Miss);
        std::fs::write(&path, "{not json").unwrap();
        match cache.lookup("k", "f1") {
            ModelLookup::Corrupt { path: named, .. } => assert_eq!(named, path),
            other => panic!("expected a corrupt record, got {other:?}"),
        }
        assert!(read_calibration(&path).is_err());
        assert_eq!(
            read_calibration(&dir.path().join("none.json")).unwrap(),
            None
        );
    }

    #[test]
    fn a_run_keeps_every_endpoints_record_and_reads_an_older_single_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        assert_eq!(read_run_calibrations(&path).unwrap(), Vec::new());
        let both = vec![record("a", "f1"), record("b", "f2")];
        write_run_calibrations(&path, &both).unwrap();
        assert_eq!(read_run_calibrations(&path).unwrap(), both);
        // A run started by an earlier version kept one record, not a list.
        write_calibration(&path, &both[0]).unwrap();
        assert_eq!(read_run_calibrations(&path).unwrap(), vec![both[0].clone()]);
        std::fs::write(&path, "[{\"key\": 1}]").unwrap();
        let err = read_run_calibrations(&path).unwrap_err().to_string();
        assert!(err.contains("model.json"), "{err}");
    }
}

//! The secrets prefilter: paths that look like secrets, and added lines that hold one, are
//! never committed. A finding names the rule and the line, never the secret itself, so that a
//! report or a log never prints it.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// Why a file is kept out of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFinding {
    /// The rule that matched (`secret path: .env file`, `AWS access key id`, ...).
    pub rule: String,
    /// The 1-based line of the file that matched, for content rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl std::fmt::Display for SecretFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {line})", self.rule),
            None => f.write_str(&self.rule),
        }
    }
}

/// Shapes of keys and tokens that are secrets wherever they appear.
static KEY_SHAPES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        (
            "private key block",
            r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----",
        ),
        (
            "AWS access key id",
            r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
        ),
        (
            "GitHub token",
            r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        ),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
        ("OpenAI-style API key", r"\bsk-(proj-)?[A-Za-z0-9_\-]{20,}"),
        ("Stripe live key", r"\b[rs]k_live_[0-9A-Za-z]{16,}"),
    ]
    .into_iter()
    .filter_map(|(name, pattern)| Regex::new(pattern).ok().map(|re| (name, re)))
    .collect()
});

/// `NAME_KEY = "value"`, `api_token: 'value'`, `password="value"` (Python, TOML, YAML, env).
static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b[A-Za-z0-9_]*(_key|_token|_secret|password|passwd|secret|apikey|api_key)\b["']?\s*[:=]\s*["']([^"'\s]{12,})["']"#,
    )
    .ok()
});

/// Bits per character above which an assigned value is taken for a secret.
const ENTROPY_BITS: f64 = 3.5;

/// A finding when `path` looks like a secret file (`.env*`, `*.pem`, `*.key`, `id_rsa*`,
/// `.pypirc`, `.npmrc`, credentials files), `None` otherwise.
pub fn secret_path(path: &Path) -> Option<SecretFinding> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let rule = if name == ".env" || name.starts_with(".env.") {
        ".env file"
    } else if [".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        "key or certificate file"
    } else if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|key| name.starts_with(key))
    {
        "SSH private key"
    } else if [
        ".pypirc",
        ".npmrc",
        ".netrc",
        ".git-credentials",
        ".htpasswd",
    ]
    .contains(&name.as_str())
    {
        "package or login credentials"
    } else if name == "credentials"
        || name.starts_with("credentials.")
        || name.ends_with("_credentials.json")
    {
        "credentials file"
    } else {
        return None;
    };
    Some(SecretFinding {
        rule: format!("secret path: {rule}"),
        line: None,
    })
}

/// The first secret in `after`'s lines that `before` does not have (the lines a change adds).
pub fn scan_added(before: &str, after: &str) -> Option<SecretFinding> {
    let old: std::collections::HashSet<&str> = before.lines().collect();
    after
        .lines()
        .enumerate()
        .filter(|(_, line)| !old.contains(line))
        .find_map(|(n, line)| scan_line(line).map(|rule| (n, rule)))
        .map(|(n, rule)| SecretFinding {
            rule: rule.to_owned(),
            line: Some(n + 1),
        })
}

/// The first secret on the `+` lines of a unified diff, with its line in the new file.
pub fn scan_diff(diff: &str) -> Option<(String, SecretFinding)> {
    let mut file = String::new();
    let mut line = 0usize;
    for text in diff.lines() {
        if let Some(name) = text.strip_prefix("+++ ") {
            file = name.strip_prefix("b/").unwrap_or(name).to_owned();
        } else if let Some(hunk) = text.strip_prefix("@@ ") {
            // @@ -a,b +c,d @@
            line = hunk
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|range| range.split(',').next())
                .and_then(|start| start.parse().ok())
                .unwrap_or(1);
        } else if let Some(added) = text.strip_prefix('+') {
            if let Some(rule) = scan_line(added) {
                return Some((
                    file,
                    SecretFinding {
                        rule: rule.to_owned(),
                        line: Some(line),
                    },
                ));
            }
            line += 1;
        } else if !text.starts_with('-') && !text.starts_with('\\') {
            line += 1;
        }
    }
    None
}

/// The rule a line breaks, if any.
fn scan_line(line: &str) -> Option<&'static str> {
    if let Some((name, _)) = KEY_SHAPES.iter().find(|(_, re)| re.is_match(line)) {
        return Some(name);
    }
    let assignment = ASSIGNMENT.as_ref()?;
    assignment
        .captures_iter(line)
        .filter_map(|caps| caps.get(2))
        .any(|value| entropy(value.as_str()) >= ENTROPY_BITS)
        .then_some("high-entropy value assigned to a key, token or password")
}

/// Shannon entropy in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let len = text.chars().count() as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn secret_paths_are_recognised() {
        for path in [
            ".env",
            "app/.env.production",
            "certs/server.pem",
            "tls.key",
            "home/.ssh/id_rsa",
            "id_ed25519.pub",
            ".pypirc",
            ".npmrc",
            "aws/credentials",
            "gcp_credentials.json",
        ] {
            assert!(secret_path(&PathBuf::from(path)).is_some(), "{path}");
        }
        for path in ["env.py", "src/keys.py", "README.md", "environment.yml"] {
            assert_eq!(secret_path(&PathBuf::from(path)), None, "{path}");
        }
    }

    #[test]
    fn added_secret_lines_are_found_and_not_echoed() {
        let before = "x = 1\n";
        let after = "x = 1\nAWS = \"AKIAIOSFODNN7EXAMPLE\"\n";
        let finding = scan_added(before, after).unwrap();
        assert_eq!(finding.rule, "AWS access key id");
        assert_eq!(finding.line, Some(2));
        assert!(!finding.to_string().contains("AKIA"));

        let key = "PEM = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n'''\n";
        assert_eq!(scan_added("", key).unwrap().rule, "private key block");

        let token = "API_TOKEN = \"q8Zr2LkP0vXy7TnB4mWc\"\n";
        assert_eq!(
            scan_added("", token).unwrap().rule,
            "high-entropy value assigned to a key, token or password"
        );
        // A low-entropy value or an unchanged line is no finding.
        assert_eq!(scan_added("", "SORT_KEY = \"aaaaaaaaaaaaaaaa\"\n"), None);
        assert_eq!(scan_added(after, after), None);
    }

    #[test]
    fn a_diff_names_the_file_and_line() {
        let diff = "diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1,2 +1,3 @@\n x = 1\n-y = 2\n+y = 3\n+K = \"AKIAIOSFODNN7EXAMPLE\"\n";
        let (file, finding) = scan_diff(diff).unwrap();
        assert_eq!(file, "c.py");
        assert_eq!(finding.line, Some(3));
    }
}

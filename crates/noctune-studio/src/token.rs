//! The access token: 32 random bytes, hex, written to `.noctune_cache/studio/token` (mode
//! 0600, rewritten at each start) and kept in memory only as a SHA-256 digest, compared in
//! constant time. The CSRF token of browser sessions is derived from it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The digest of the daemon's token, and of the CSRF token derived from it.
#[derive(Clone)]
pub struct TokenDigest {
    token: [u8; 32],
    csrf: [u8; 32],
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

impl TokenDigest {
    /// The digest of `token`.
    pub fn of(token: &str) -> Self {
        Self {
            token: Sha256::digest(token.as_bytes()).into(),
            csrf: Sha256::digest(csrf_token(token).as_bytes()).into(),
        }
    }

    /// Whether `candidate` is the token (constant time in the candidate's content).
    pub fn verify(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        constant_time_eq(&digest, &self.token)
    }

    /// Whether `candidate` is the CSRF token of a browser session.
    pub fn verify_csrf(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        constant_time_eq(&digest, &self.csrf)
    }
}

/// The CSRF token a browser page sends in `x-csrf-token` with every state change: derived
/// from the access token, so it needs no storage and changes at every start.
pub fn csrf_token(token: &str) -> String {
    hex(&Sha256::digest(
        format!("noctune-studio-csrf\0{token}").as_bytes(),
    ))
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A new random token: 32 bytes as 64 hex digits.
pub fn generate() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| Error::Random(err.to_string()))?;
    Ok(hex(&bytes))
}

/// Writes the token to `path` with mode 0600, replacing any earlier file.
pub fn write_token_file(path: &Path, token: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|err| Error::io("create directory", dir, err))?;
    }
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(Error::io("remove", path, err)),
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| Error::io("create", path, err))?;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|err| Error::io("set permissions of", path, err))?;
    file.write_all(token.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| Error::io("write", path, err))?;
    Ok(())
}

/// Reads the token file (for `noctune studio stop`).
pub fn read_token_file(path: &Path) -> Result<String> {
    let text = fs::read_to_string(path).map_err(|err| Error::io("read", path, err))?;
    Ok(text.trim().to_owned())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn tokens_are_random_hex_and_verify_only_themselves() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        let digest = TokenDigest::of(&a);
        assert!(digest.verify(&a));
        assert!(!digest.verify(&b));
        assert!(!digest.verify(""));
        assert!(digest.verify_csrf(&csrf_token(&a)));
        assert!(!digest.verify_csrf(&a));
    }

    #[test]
    fn the_token_file_is_private_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("studio/token");
        write_token_file(&path, "first").unwrap();
        write_token_file(&path, "second").unwrap();
        assert_eq!(read_token_file(&path).unwrap(), "second");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

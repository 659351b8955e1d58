//! The embedded web UI assets under `/assets/<version>/...`: the version is a digest of the
//! assets' content, so they can be cached as immutable.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::security::CachePolicy;
use crate::state::AppState;

/// The web UI, embedded in the binary.
pub static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets");

/// The routes of this group.
pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/{version}/{*path}", get(asset))
}

/// The assets' content version: the first 12 hex digits of a digest over every file.
pub fn version() -> String {
    let mut hasher = Sha256::new();
    let mut files: Vec<_> = ASSETS.files().collect();
    collect(&ASSETS, &mut files);
    files.sort_by_key(|f| f.path());
    for file in files {
        hasher.update(file.path().to_string_lossy().as_bytes());
        hasher.update(file.contents());
    }
    crate::token::hex(&hasher.finalize()[..6])
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for sub in dir.dirs() {
        out.extend(sub.files());
        collect(sub, out);
    }
}

/// One embedded file by its path, for the page.
pub fn file(path: &str) -> Option<&'static [u8]> {
    ASSETS.get_file(path).map(|f| f.contents())
}

async fn asset(
    State(state): State<AppState>,
    Path((version, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if version != *state.asset_version || path.contains("..") {
        return Err(ApiError::NotFound(format!("no asset `{path}`")));
    }
    let Some(file) = ASSETS.get_file(&path) else {
        return Err(ApiError::NotFound(format!("no asset `{path}`")));
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let mut response = file.contents().into_response();
    if let Ok(value) = HeaderValue::from_str(mime.essence_str()) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response.extensions_mut().insert(CachePolicy::Immutable);
    Ok(response)
}

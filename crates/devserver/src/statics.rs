//! Static files: `www/` at `/` and the built npm package at `/pkg/`.
//!
//! Safe by default: the decoded path must consist of plain segments (no `..`, no `.`-prefixed
//! names, no backslashes or NUL), the resolved file must stay inside the canonical root
//! (symlinks pointing outside are refused), and directories are never listed.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use crate::json_error;

/// The `Content-Type` for a file name.
pub(crate) fn mime_for(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" | "ts" | "mts" | "cts" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "sse" => "text/event-stream",
        _ => "application/octet-stream",
    }
}

fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}

/// Decodes `raw` (the part of the URL path under the root) into safe relative segments.
fn segments(raw: &str) -> Result<Vec<String>, StatusCode> {
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut out = Vec::new();
    for seg in decoded.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        if seg == ".." || seg.contains(['\\', '\0']) || seg.contains(':') {
            return Err(StatusCode::BAD_REQUEST);
        }
        if seg.starts_with('.') {
            return Err(StatusCode::NOT_FOUND);
        }
        out.push(seg.to_owned());
    }
    Ok(out)
}

/// Serves `raw` (URL-encoded, relative to `root`); `url_path` is the full request path, used
/// to redirect `dir` to `dir/`.
pub(crate) async fn serve(root: &Path, raw: &str, url_path: &str, method: &Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = json_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let segs = match segments(raw) {
        Ok(s) => s,
        Err(StatusCode::BAD_REQUEST) => return json_error(StatusCode::BAD_REQUEST, "bad path"),
        Err(_) => return not_found(),
    };
    let Ok(root) = tokio::fs::canonicalize(root).await else {
        return not_found();
    };
    let mut path: PathBuf = root.clone();
    path.extend(&segs);
    let Ok(mut real) = tokio::fs::canonicalize(&path).await else {
        return not_found();
    };
    if !real.starts_with(&root) {
        return not_found();
    }
    let Ok(mut meta) = tokio::fs::metadata(&real).await else {
        return not_found();
    };
    if meta.is_dir() {
        if !url_path.ends_with('/') {
            let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
            // One leading slash whatever the request had: `//host` in `Location` would send
            // the browser to another server.
            let target = format!("/{}/", url_path.trim_start_matches('/'));
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        let Ok(index) = tokio::fs::canonicalize(real.join("index.html")).await else {
            return not_found();
        };
        if !index.starts_with(&root) {
            return not_found();
        }
        real = index;
        meta = match tokio::fs::metadata(&real).await {
            Ok(m) if m.is_file() => m,
            _ => return not_found(),
        };
    }
    if !meta.is_file() {
        return not_found();
    }
    let Ok(bytes) = tokio::fs::read(&real).await else {
        return not_found();
    };
    let mut resp = Body::from(bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime_for(&real)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal() {
        assert_eq!(segments("a/../b"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(segments("a/%2e%2e/b"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(segments("a%2f..%2fb"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(segments("..%5cb"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(segments(".env"), Err(StatusCode::NOT_FOUND));
        assert_eq!(segments("a//./b/").ok(), Some(vec!["a".into(), "b".into()]));
        assert_eq!(
            segments("a/b/c.js").ok(),
            Some(vec!["a".into(), "b".into(), "c.js".into()])
        );
        assert_eq!(mime_for(Path::new("x.wasm")), "application/wasm");
        assert_eq!(
            mime_for(Path::new("x.MJS")),
            "text/javascript; charset=utf-8"
        );
    }
}

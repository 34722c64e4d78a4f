//! CORS: an origin allowlist with `:*` port wildcards, credentials, and preflight for
//! `Last-Event-ID`, `Content-Type: application/json` and any custom header.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wasm_sse_codec::protocol::path;

use crate::json_error;

/// The default allowlist (the server's own origin is added at startup).
pub const DEFAULT_ORIGINS: [&str; 3] =
    ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"];

/// The response headers a cross-origin client may read: the retry and redirect hints and the
/// long-poll headers of the protocol.
const EXPOSE_HEADERS: &str =
    "Retry-After, Location, WWW-Authenticate, X-Accel-Buffering, Long-Poll-Cursor, Long-Poll-Ahead";

/// The allowlist.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    patterns: Vec<String>,
}

impl Cors {
    pub(crate) fn new(patterns: Vec<String>) -> Arc<Self> {
        Arc::new(Cors { patterns })
    }

    /// Does `origin` match a pattern? `*` matches any origin; `scheme://host:*` matches that
    /// scheme and host with any (or no) port; anything else must match exactly.
    #[cfg(test)]
    fn allows(&self, origin: &str) -> bool {
        self.matches(origin).is_some()
    }

    /// How `origin` is allowed: [`Allowed::Listed`] by a pattern naming it, or
    /// [`Allowed::Any`] by `*` only.
    fn matches(&self, origin: &str) -> Option<Allowed> {
        let listed =
            self.patterns
                .iter()
                .filter(|p| *p != "*")
                .any(|p| match p.strip_suffix(":*") {
                    Some(base) => origin.strip_prefix(base).is_some_and(|rest| {
                        rest.is_empty()
                            || rest.strip_prefix(':').is_some_and(|port| {
                                !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                            })
                    }),
                    None => p.eq_ignore_ascii_case(origin),
                });
        if listed {
            Some(Allowed::Listed)
        } else if self.patterns.iter().any(|p| p == "*") {
            Some(Allowed::Any)
        } else {
            None
        }
    }
}

/// How an origin is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Allowed {
    /// By a pattern naming it: the answer names the origin and allows credentials.
    Listed,
    /// By `*` only: the answer says `*` and never allows credentials (cookies and HTTP
    /// authentication are not shared with any site).
    Any,
}

fn allow_headers(h: &mut HeaderMap, origin: HeaderValue, how: Allowed) {
    match how {
        Allowed::Listed => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        Allowed::Any => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Does a request change the server's state (`POST /publish`, `POST /control/...`)?
pub(crate) fn changes_state(method: &Method, path: &str) -> bool {
    method == Method::POST
        && [path::PUBLISH, path::CONTROL_DROP, path::CONTROL_OUTAGE].contains(&path)
}

/// The middleware.
pub(crate) async fn layer(State(cors): State<Arc<Cors>>, req: Request, next: Next) -> Response {
    let sent = req.headers().get(header::ORIGIN).cloned();
    let origin = sent.clone().and_then(|o| {
        let how = cors.matches(o.to_str().ok()?)?;
        Some((o, how))
    });
    // A state-changing request from a page whose origin is not allowed is refused before it
    // does anything (a browser would only hide the answer from the page).
    if sent.is_some() && origin.is_none() && changes_state(req.method(), req.uri().path()) {
        return json_error(
            StatusCode::FORBIDDEN,
            "this Origin may not publish or control the server (see --cors-origin)",
        );
    }
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        if let Some((origin, how)) = origin {
            allow_headers(h, origin, how);
            h.insert(
                header::VARY,
                HeaderValue::from_static(
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
            );
            if let Some(requested) = requested {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
            }
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    if let Some((origin, how)) = origin {
        let h = resp.headers_mut();
        allow_headers(h, origin, how);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let c = Cors::new(DEFAULT_ORIGINS.iter().map(|s| s.to_string()).collect());
        assert!(c.allows("http://127.0.0.1:5173"));
        assert!(c.allows("http://localhost"));
        assert!(c.allows("http://[::1]:80"));
        assert!(!c.allows("http://127.0.0.1.evil.com"));
        assert!(!c.allows("http://127.0.0.1:80x"));
        assert!(!c.allows("https://localhost:1"));
        assert!(!c.allows("http://example.com"));
        let any = Cors::new(vec!["*".to_owned(), "http://a.test".to_owned()]);
        assert_eq!(any.matches("http://a.test"), Some(Allowed::Listed));
        assert_eq!(any.matches("http://b.test"), Some(Allowed::Any));
    }

    #[test]
    fn every_long_poll_header_is_exposed() {
        use wasm_sse_codec::protocol::header;
        let exposed: Vec<String> = EXPOSE_HEADERS
            .split(", ")
            .map(str::to_ascii_lowercase)
            .collect();
        for name in [header::LONG_POLL_CURSOR, header::LONG_POLL_AHEAD] {
            assert!(exposed.iter().any(|e| e == name), "{name} is not exposed");
        }
    }
}

//! `POST /publish?topic=T`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::hub::{valid_topic, PublishError};
use crate::{json_error, query_pairs, topic_param, AppState};

fn parse_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s)
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Checks `Authorization: Bearer <token>`: the scheme in any case, one or more spaces, then
/// the token. The comparison takes the same time whatever the given value shares with the
/// token, its length included: it depends on the given value's length only.
pub(crate) fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, rest)| rest.trim_matches(' '))
    else {
        return false;
    };
    same_secret(given.as_bytes(), token.as_bytes())
}

/// `given == secret`, in a time that depends on `given.len()` only.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != secret.len());
    for (i, g) in given.iter().enumerate() {
        // Cycles through the secret (a byte past its end compares with an earlier one), so
        // that the loop does not stop at the secret's length.
        let s = if secret.is_empty() {
            0
        } else {
            secret[i % secret.len()]
        };
        diff |= g ^ s;
    }
    std::hint::black_box(diff) == 0
}

/// Is `value` a JSON media type (`application/json`, or `application/<x>+json`, with any
/// parameters)? Every other type, the three a page may send across sites without a
/// preflight (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`)
/// among them, is refused.
pub(crate) fn is_json(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.len() > 5 && sub[sub.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// The handler: `{"event"?: string, "data": string | JSON, "id"?: integer | digits}` ->
/// `{"id": "<assigned>"}`.
pub(crate) async fn publish(
    State(app): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(is_json) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be sent as Content-Type: application/json",
        );
    }
    if let Some(token) = &app.config.publish_token {
        if !authorized(&headers, token) {
            let mut r = json_error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sse-devserver\""),
            );
            return r;
        }
    }
    let pairs = query_pairs(&uri);
    let topic = topic_param(&pairs);
    if !valid_topic(topic) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :",
        );
    }
    let limit = app.config.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body is over the {limit}-byte limit"),
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body is over the {limit}-byte limit"),
        );
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &format!("bad JSON: {e}")),
    };
    let Value::Object(mut obj) = value else {
        return json_error(StatusCode::BAD_REQUEST, "body must be a JSON object");
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "event" | "data" | "id"))
    {
        return json_error(StatusCode::BAD_REQUEST, &format!("unknown field `{k}`"));
    }
    let event = match obj.remove("event") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.contains(['\r', '\n']) => Some(s),
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "`event` must be a string without line breaks",
            )
        }
    };
    let data = match obj.remove("data") {
        None => return json_error(StatusCode::BAD_REQUEST, "`data` is required"),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    };
    let id = match obj.remove("id") {
        None | Some(Value::Null) => None,
        Some(v) => match parse_id(&v) {
            Some(id) => Some(id),
            None => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "`id` must be a non-negative integer (number or decimal string)",
                )
            }
        },
    };
    match app.hub.publish(topic, event.as_deref(), &data, id) {
        Ok(id) => {
            tracing::debug!(topic, id, "published");
            Json(serde_json::json!({ "id": id.to_string() })).into_response()
        }
        Err(PublishError::IdNotIncreasing { latest }) => json_error(
            StatusCode::CONFLICT,
            &format!("`id` must be greater than the topic's latest id {latest}"),
        ),
        Err(PublishError::IdOutOfRange) => json_error(
            StatusCode::CONFLICT,
            &format!("ids end at {}: no greater id is left", u64::MAX - 1),
        ),
        Err(PublishError::Closed) => crate::events::busy("shutting down"),
        Err(PublishError::Storage(e)) => {
            tracing::error!(%e, "state file");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &e)
        }
        Err(PublishError::TooManyTopics) => crate::events::busy("too many topics"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_and_secret() {
        let auth = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
            authorized(&h, "s3cret")
        };
        assert!(auth("Bearer s3cret"));
        assert!(auth("bearer s3cret"));
        assert!(auth("BEARER  s3cret"));
        assert!(!auth("Bearer s3cre"));
        assert!(!auth("Bearer s3cretX"));
        assert!(!auth("Bearer s3cres3cret"));
        assert!(!auth("Basic s3cret"));
        assert!(!auth("Bearers3cret"));
        assert!(!auth(""));
        assert!(same_secret(b"", b""));
        assert!(!same_secret(b"a", b""));
    }

    #[test]
    fn json_types_only() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "+json",
            "application/+json",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}

//! `POST /publish?topic=T`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use wasm_sse_codec::protocol::query;

use crate::hub::{valid_topic, PublishError};
use crate::{json_error, query_pairs, AppState};

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

/// Checks `Authorization: Bearer <token>` in constant time with respect to the token's bytes.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The handler: `{"event"?: string, "data": string | JSON, "id"?: integer | digits}` ->
/// `{"id": "<assigned>"}`.
pub(crate) async fn publish(
    State(app): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
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
    let topic = pairs
        .iter()
        .find(|(k, _)| k == query::TOPIC)
        .map_or(query::DEFAULT_TOPIC, |(_, v)| v.as_str());
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
        Err(PublishError::TooManyTopics) => {
            json_error(StatusCode::SERVICE_UNAVAILABLE, "too many topics")
        }
    }
}

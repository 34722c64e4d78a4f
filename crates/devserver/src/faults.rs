//! Fault injection: query parameters on `/events` (and replay routes) that make the server
//! misbehave in a deterministic way. The table lives in `docs/protocol.md`.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wasm_sse_codec::protocol::fault;

use crate::json_error;

/// The default largest accepted `hugeBytes` (`--max-huge-bytes`).
pub(crate) const MAX_HUGE_BYTES: usize = 64 << 20;
/// How long `buffer=1` holds a response back at most, unless `bufferMs` says otherwise.
pub(crate) const DEFAULT_BUFFER_HOLD: Duration = Duration::from_secs(30);
/// Largest accepted `stallMs` / `delayMs` / `bufferMs`.
const MAX_WAIT_MS: u64 = 600_000;

/// The parsed fault parameters of one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    pub(crate) close_after: Option<u64>,
    pub(crate) status: Option<StatusCode>,
    pub(crate) retry_after: Option<u64>,
    pub(crate) redirect_loop: bool,
    pub(crate) content_type: Option<HeaderValue>,
    pub(crate) stall: Option<Duration>,
    pub(crate) trickle: Option<usize>,
    pub(crate) trickle_interval: Duration,
    pub(crate) retry: Option<u64>,
    pub(crate) huge_bytes: Option<usize>,
    pub(crate) invalid_utf8: bool,
    pub(crate) delay: Option<Duration>,
    /// `echo=1`: the body starts with an `event: request` describing the request.
    pub(crate) echo: bool,
    /// `buffer=1`: hold the whole body back until the response ends (a buffering proxy).
    pub(crate) buffer: bool,
    /// `bufferMs=T`: with `buffer`, end the response after this long at the latest.
    pub(crate) buffer_hold: Duration,
}

fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("query parameter `{name}` must be a non-negative integer"))
}

fn flag(name: &str, v: &str) -> Result<bool, String> {
    match v {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!(
            "query parameter `{name}` must be 1/true or 0/false"
        )),
    }
}

fn millis(name: &str, v: &str) -> Result<Duration, String> {
    let ms: u64 = num(name, v)?;
    if ms > MAX_WAIT_MS {
        return Err(format!(
            "query parameter `{name}` must be at most {MAX_WAIT_MS}"
        ));
    }
    Ok(Duration::from_millis(ms))
}

impl Faults {
    /// Parses the fault parameters out of the decoded query pairs; other names are ignored.
    ///
    /// Only the names of [`fault::ALL`] get this far, so the parser cannot accept a fault
    /// parameter that the protocol module does not list.
    /// `max_huge` is the largest accepted `hugeBytes`.
    pub(crate) fn parse(pairs: &[(String, String)], max_huge: usize) -> Result<Self, String> {
        let mut f = Faults {
            trickle_interval: Duration::from_millis(20),
            buffer_hold: DEFAULT_BUFFER_HOLD,
            ..Faults::default()
        };
        for (k, v) in pairs {
            let Some(name) = fault::ALL.iter().copied().find(|name| name == k) else {
                continue;
            };
            match name {
                fault::CLOSE_AFTER => f.close_after = Some(num(k, v)?),
                fault::STATUS => {
                    let code: u16 = num(k, v)?;
                    let status = StatusCode::from_u16(code)
                        .ok()
                        .filter(|_| (200..=599).contains(&code))
                        .ok_or("query parameter `status` must be within 200..=599")?;
                    f.status = Some(status);
                }
                fault::RETRY_AFTER => f.retry_after = Some(num(k, v)?),
                fault::REDIRECT_LOOP => f.redirect_loop = flag(k, v)?,
                fault::CONTENT_TYPE => {
                    let value = HeaderValue::from_str(v)
                        .ok()
                        .filter(|_| v.len() <= 256)
                        .ok_or("query parameter `contentType` is not a valid header value")?;
                    f.content_type = Some(value);
                }
                fault::STALL_MS => f.stall = Some(millis(k, v)?),
                fault::TRICKLE => {
                    let n: usize = num(k, v)?;
                    if !(1..=65_536).contains(&n) {
                        return Err("query parameter `trickle` must be within 1..=65536".into());
                    }
                    f.trickle = Some(n);
                }
                fault::TRICKLE_MS => {
                    let d = millis(k, v)?;
                    if d > Duration::from_secs(10) {
                        return Err("query parameter `trickleMs` must be at most 10000".into());
                    }
                    f.trickle_interval = d;
                }
                fault::RETRY => f.retry = Some(num(k, v)?),
                fault::HUGE_BYTES => {
                    let n: usize = num(k, v)?;
                    if n > max_huge {
                        return Err(format!(
                            "query parameter `hugeBytes` must be at most {max_huge}"
                        ));
                    }
                    f.huge_bytes = Some(n);
                }
                fault::INVALID_UTF8 => f.invalid_utf8 = flag(k, v)?,
                fault::DELAY_MS => f.delay = Some(millis(k, v)?),
                fault::ECHO => f.echo = flag(k, v)?,
                fault::BUFFER => f.buffer = flag(k, v)?,
                fault::BUFFER_MS => f.buffer_hold = millis(k, v)?,
                // A listed name without an arm: `every_listed_fault_parameter_is_parsed` fails.
                _ => {}
            }
        }
        Ok(f)
    }

    /// The response for a `status=S` fault, if it replaces the stream.
    ///
    /// `path_and_query` is the request target; redirects point at it without `status`
    /// (or unchanged with `redirectLoop=1`).
    pub(crate) fn status_response(
        &self,
        path: &str,
        pairs: &[(String, String)],
    ) -> Option<Response> {
        let status = self.status?;
        if status == StatusCode::OK {
            return None;
        }
        let mut resp = if status.is_redirection() {
            let keep: Vec<_> = pairs
                .iter()
                .filter(|(k, _)| {
                    self.redirect_loop || (k != fault::STATUS && k != fault::REDIRECT_LOOP)
                })
                .collect();
            let mut target = path.to_owned();
            if !keep.is_empty() {
                let q = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(keep)
                    .finish();
                target.push('?');
                target.push_str(&q);
            }
            let mut r = status.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        } else if status.is_success() || status.is_informational() {
            status.into_response()
        } else {
            json_error(status, &format!("injected status {}", status.as_u16()))
        };
        let h = resp.headers_mut();
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::SERVICE_UNAVAILABLE
            || self.retry_after.is_some()
        {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(self.retry_after.unwrap_or(1)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sse-devserver\""),
            );
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Some(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed fault parameter reaches its own arm of the parser: a value that no
    /// parameter accepts is refused with an error naming it.
    #[test]
    fn every_listed_fault_parameter_is_parsed() {
        for name in fault::ALL {
            let pairs = [(name.to_owned(), "\u{7f}bad\n".to_owned())];
            match Faults::parse(&pairs, MAX_HUGE_BYTES) {
                Err(e) => assert!(e.contains(&format!("`{name}`")), "{name}: {e}"),
                Ok(f) => panic!("{name}: a bad value was accepted: {f:?}"),
            }
        }
    }

    /// The fault table of docs/protocol.md lists exactly the parameters of the protocol
    /// module, in the same order.
    #[test]
    fn the_documented_fault_table_matches_the_protocol_module() {
        let doc = include_str!("../../../docs/protocol.md");
        let section = doc
            .split("\n## ")
            .find(|s| s.starts_with("Fault injection\n"))
            .unwrap_or_default();
        let documented: Vec<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split(['=', '`']).next())
            .collect();
        assert_eq!(documented, fault::ALL);
    }

    /// Other names are ignored, whatever their value.
    #[test]
    fn unknown_parameters_are_ignored() {
        let pairs = [
            ("cacheBuster".to_owned(), "\u{7f}".to_owned()),
            ("Status".to_owned(), "x".to_owned()),
        ];
        assert!(Faults::parse(&pairs, MAX_HUGE_BYTES).is_ok());
    }
}

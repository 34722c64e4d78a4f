//! The `Host` guard: on a loopback listener, only loopback host names (and the ones given
//! with `--allowed-host`) are served, so that a page on another site cannot reach the server
//! through DNS rebinding (its requests carry the attacker's host name).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::json_error;

/// The accepted host names besides the loopback ones (lower-cased, without port).
#[derive(Debug)]
pub(crate) struct Hosts {
    extra: Vec<String>,
}

impl Hosts {
    pub(crate) fn new(extra: &[String]) -> Self {
        Hosts {
            extra: extra
                .iter()
                .map(|h| host_name(h).unwrap_or(h).to_ascii_lowercase())
                .collect(),
        }
    }

    /// Is the `Host` header value `value` acceptable?
    pub(crate) fn allows(&self, value: &str) -> bool {
        let Some(name) = host_name(value) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        is_loopback_name(&name) || self.extra.contains(&name)
    }
}

/// The host part of a `Host` value (`name`, `name:port`, `[v6]`, `[v6]:port`), without the
/// brackets of an IPv6 literal; `None` when the port is not digits.
fn host_name(value: &str) -> Option<&str> {
    let (name, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            (v6, after.strip_prefix(':'))
        }
        None => match value.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (value, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(name)
}

/// `localhost`, a name under `.localhost` (browsers resolve both to loopback, never through
/// DNS), `127.0.0.0/8` or `::1`.
fn is_loopback_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() && ip != IpAddr::V6(Ipv6Addr::UNSPECIFIED))
}

/// The middleware: `421 Misdirected Request` for a `Host` that is not accepted. A request
/// without `Host` (HTTP/1.0 tools) passes: a browser always sends one.
pub(crate) async fn host_layer(
    State(hosts): State<Option<Arc<Hosts>>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(hosts) = &hosts {
        let host = req
            .headers()
            .get(header::HOST)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        if let Some(host) = host {
            if !hosts.allows(host) {
                return json_error(
                    StatusCode::MISDIRECTED_REQUEST,
                    "this Host is not served: the server listens on loopback and accepts only \
                     loopback host names (add others with --allowed-host)",
                );
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_extras() {
        let h = Hosts::new(&["Dev.Example:8080".to_owned()]);
        for ok in [
            "127.0.0.1:8080",
            "127.1.2.3",
            "localhost",
            "LOCALHOST:1",
            "app.localhost:3000",
            "[::1]:8080",
            "[::1]",
            "dev.example",
            "dev.example:9",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "evil.com:8080",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "0.0.0.0:8080",
            "[::]:8080",
            "192.168.1.2",
            "localhost:80x",
            "",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }
}

//! Response checks: which answers open a connection and which fail it, and how.
//!
//! Pure functions over a response head, called by the fetch-based transports as soon as
//! the head arrives (before any byte of the body is read, so a refused body is never
//! parsed) and tested natively.

use alloc::borrow::ToOwned;

use alloc::string::String;

use core::time::Duration;

use super::reconnect::Failure;
use super::text::split_ascii;

/// The parts of a response head the checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Head {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The `Content-Type` header (`None` when missing).
    pub(crate) content_type: Option<String>,
    /// The `Retry-After` header, unparsed (`None` when missing or not exposed by CORS).
    pub(crate) retry_after: Option<String>,
}

/// Accepts a response with status 200 and a `text/event-stream` content type.
///
/// Any other status fails with [`Failure::Status`] (including 204, which the policy treats
/// as "stop"), carrying `Retry-After` if present and parseable (see [`parse_retry_after`];
/// `wall_ms` is the wall clock in milliseconds since the Unix epoch, for HTTP dates). A
/// wrong or missing content type fails with [`Failure::ContentType`] holding the received
/// value (`""` when missing).
pub(crate) fn check(head: &Head, wall_ms: f64) -> Result<(), Failure> {
    if head.status != 200 {
        let retry_after = head
            .retry_after
            .as_deref()
            .and_then(|value| parse_retry_after(value, wall_ms));
        return Err(Failure::Status {
            status: head.status,
            retry_after,
        });
    }
    let content_type = head.content_type.as_deref().unwrap_or_default();
    if is_event_stream(content_type) {
        Ok(())
    } else {
        Err(Failure::ContentType(content_type.to_owned()))
    }
}

/// Whether a `Content-Type` value's media type is `text/event-stream` (compared
/// case-insensitively; parameters such as `charset` are ignored).
pub(crate) fn is_event_stream(content_type: &str) -> bool {
    let media_type = split_ascii(content_type, b';').next().unwrap_or_default();
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case("text/event-stream")
}

/// Parses a `Retry-After` value: delta-seconds, or an HTTP-date in the IMF-fixdate form
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form senders may generate; the obsolete
/// RFC 850 and asctime forms are not recognised). A date is turned into a delay from
/// `now_ms` (milliseconds since the Unix epoch); a date in the past means no wait.
pub(crate) fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim_ascii();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit: wait "forever" rather than not at all.
        return Some(Duration::from_secs(digits_value(value).unwrap_or(u64::MAX)));
    }
    let at_ms = parse_imf_fixdate(value)? as f64 * 1000.0;
    let delay_ms = (at_ms - now_ms).max(0.0);
    Some(Duration::from_millis(delay_ms as u64))
}

/// The value of `text`, which holds only ASCII digits; `None` when it does not fit a `u64`.
/// Folded by hand: the same result as `str::parse` for such text, with less code in the wasm.
fn digits_value(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_imf_fixdate(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let number = |text: &str, digits: usize| -> Option<i64> {
        (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits_value(text))
            .flatten()
            .map(|n| n as i64)
    };
    let mut parts = split_ascii(value, b' ');
    let weekday = parts.next()?;
    if weekday.len() != 4 || !weekday.ends_with(',') {
        return None;
    }
    let day = number(parts.next()?, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year = number(parts.next()?, 4)?;
    let mut time = split_ascii(parts.next()?, b':');
    let hour = number(time.next()?, 2)?;
    let minute = number(time.next()?, 2)?;
    let second = number(time.next()?, 2)?;
    if time.next().is_some() || parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    #[test]
    fn check_accepts_200_event_streams_only() {
        let head = |status: u16, content_type: Option<&str>, retry_after: Option<&str>| Head {
            status,
            content_type: content_type.map(str::to_owned),
            retry_after: retry_after.map(str::to_owned),
        };
        let cases: [(&str, Head, Result<(), Failure>); 7] = [
            (
                "200 event stream opens",
                head(200, Some("text/event-stream"), None),
                Ok(()),
            ),
            (
                "200 with a charset opens",
                head(200, Some("text/event-stream; charset=utf-8"), None),
                Ok(()),
            ),
            (
                "200 of another type is a content-type failure",
                head(200, Some("text/plain"), None),
                Err(Failure::ContentType("text/plain".into())),
            ),
            (
                "200 without a type is a content-type failure with an empty value",
                head(200, None, None),
                Err(Failure::ContentType(String::new())),
            ),
            (
                "204 is a status failure (the policy stops on it)",
                head(204, Some("text/event-stream"), None),
                Err(Failure::Status {
                    status: 204,
                    retry_after: None,
                }),
            ),
            (
                "503 carries Retry-After",
                head(503, None, Some("7")),
                Err(Failure::Status {
                    status: 503,
                    retry_after: Some(Duration::from_secs(7)),
                }),
            ),
            (
                "an unparseable Retry-After is ignored",
                head(429, None, Some("soon")),
                Err(Failure::Status {
                    status: 429,
                    retry_after: None,
                }),
            ),
        ];
        for (rule, head, want) in cases {
            assert_eq!(check(&head, 0.0), want, "{rule}");
        }
    }

    #[test]
    fn content_type_media_type_is_compared_without_case_or_parameters() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream ;x=y"));
        assert!(!is_event_stream("text/plain"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text/event-streams"));
    }

    #[test]
    fn digits_value_agrees_with_parse() {
        for text in [
            "0",
            "007",
            "1994",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999",
        ] {
            assert_eq!(digits_value(text), text.parse::<u64>().ok(), "{text}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_and_imf_fixdates() {
        assert_eq!(parse_retry_after("7", 0.0), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", 0.0), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", 0.0),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-1", 0.0), None);
        assert_eq!(parse_retry_after("soon", 0.0), None);
        assert_eq!(parse_retry_after("", 0.0), None);
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_imf_fixdate("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        let now = 784_111_777_000.0 - 2_500.0;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_millis(2_500))
        );
        // In the past: no wait.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 10_000.0),
            Some(Duration::ZERO)
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_imf_fixdate(bad), None, "{bad}");
        }
    }
}

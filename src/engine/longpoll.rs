//! Long-poll planning: which polls to have in flight, and how fast to poll.
//!
//! Pure decisions for the long-polling transport, which does the requests. When a
//! response names its last event ID in `Long-Poll-Cursor` (the dev server does; see
//! `docs/protocol.md`), the next poll can go out as soon as the head arrives, so the body's
//! download, parsing and delivery overlap the next round trip. When it also lists, in
//! `Long-Poll-Ahead`, the last event IDs of the full batches that would follow (a backlog:
//! a replay, a client catching up), a poll goes out after each of those too, up to
//! [`MAX_AHEAD`] beyond the next one. Every early poll is a guess that the body before it
//! ends where the server said: the polls in flight always form a chain starting at the
//! cursor the current body should end at; when a body ends anywhere else, or an answer
//! announces a different chain, the polls that no longer fit are dropped and the next poll
//! goes out from where the body really ended, so nothing is skipped and nothing is read
//! twice.

use alloc::vec;
use alloc::vec::Vec;

use core::time::Duration;

use super::text::split_ascii;

/// How many polls beyond the next one may be in flight at once (taken from
/// `Long-Poll-Ahead`). With the poll being read and the next one, that is four connections:
/// a browser allows six per host over HTTP/1.1, and the page may need the others.
pub(crate) const MAX_AHEAD: usize = 2;

/// The shortest time from the start of one poll to the start of the next when the first
/// one's response carried no event: a server that answers at once with nothing cannot make
/// the client spin (at most four polls a second). A held poll lasts longer than this, so it
/// is followed by the next one without delay.
pub(crate) const MIN_EMPTY_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The cursors to have polls in flight after: the current body's announced last ID, then
/// those of the batches `ahead` lists (`Long-Poll-Ahead`: comma-separated), at most
/// [`MAX_AHEAD`] of them. An empty item ends the list (a malformed header is not trusted
/// past it).
pub(crate) fn chain<'a>(cursor: &'a str, ahead: &'a str) -> Vec<&'a str> {
    let mut chain = vec![cursor];
    chain.extend(
        split_ascii(ahead, b',')
            .map(str::trim_ascii)
            .take_while(|id| !id.is_empty())
            .take(MAX_AHEAD),
    );
    chain
}

/// How many of the polls in flight (the cursors they were sent after, oldest first) are
/// already the start of `chain`: those are kept, the rest dropped, and polls for the rest
/// of `chain` sent.
pub(crate) fn fitting<'a>(
    in_flight: impl IntoIterator<Item = Option<&'a str>>,
    chain: &[&str],
) -> usize {
    in_flight
        .into_iter()
        .zip(chain)
        .take_while(|(after, cursor)| *after == Some(**cursor))
        .count()
}

/// Whether the early poll sent after `next_after` may stand once the current body ended
/// with the cursor at `cursor`: only if it starts exactly there (after a body cut short it
/// would skip events).
pub(crate) fn early_poll_fits(next_after: Option<&str>, cursor: Option<&str>) -> bool {
    next_after == cursor
}

/// How long to wait before the next poll, `elapsed` after the previous one started, when
/// its answer carried `events` events.
pub(crate) fn pause_before_next(events: usize, elapsed: Duration) -> Duration {
    if events > 0 {
        Duration::ZERO
    } else {
        MIN_EMPTY_POLL_INTERVAL.saturating_sub(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_the_cursor_then_at_most_max_ahead_announced_batches() {
        let cases: [(&str, &str, &str, &[&str]); 6] = [
            ("no header: the cursor alone", "5", "", &["5"]),
            ("one batch ahead", "5", "10", &["5", "10"]),
            ("spaces are trimmed", "5", " 10 , 15 ", &["5", "10", "15"]),
            ("at most MAX_AHEAD", "5", "10,15,20,25", &["5", "10", "15"]),
            ("an empty item ends the list", "5", "10,,15", &["5", "10"]),
            ("a leading empty item trusts nothing", "5", ",10", &["5"]),
        ];
        for (rule, cursor, ahead, want) in cases {
            assert_eq!(chain(cursor, ahead), want, "{rule}");
        }
    }

    #[test]
    fn polls_in_flight_are_kept_only_while_they_start_the_chain() {
        type Case<'a> = (&'a str, &'a [Option<&'a str>], &'a [&'a str], usize);
        let cases: [Case<'_>; 5] = [
            ("none in flight", &[], &["5", "10"], 0),
            ("all fit", &[Some("5"), Some("10")], &["5", "10", "15"], 2),
            (
                "the first differs: none fits",
                &[Some("4"), Some("10")],
                &["5", "10"],
                0,
            ),
            (
                "the second differs",
                &[Some("5"), Some("9")],
                &["5", "10"],
                1,
            ),
            ("a poll without cursor never fits", &[None], &["5"], 0),
        ];
        for (rule, in_flight, chain, want) in cases {
            assert_eq!(fitting(in_flight.iter().copied(), chain), want, "{rule}");
        }
    }

    #[test]
    fn an_early_poll_stands_only_where_the_body_really_ended() {
        assert!(early_poll_fits(Some("6"), Some("6")));
        assert!(!early_poll_fits(Some("6"), Some("5")), "a body cut short");
        assert!(!early_poll_fits(Some("6"), None));
        assert!(early_poll_fits(None, None));
    }

    #[test]
    fn empty_answers_are_paced_and_answers_with_events_are_not() {
        let ms = Duration::from_millis;
        assert_eq!(pause_before_next(3, ms(0)), Duration::ZERO);
        assert_eq!(pause_before_next(0, ms(0)), MIN_EMPTY_POLL_INTERVAL);
        assert_eq!(pause_before_next(0, ms(100)), ms(150));
        assert_eq!(
            pause_before_next(0, ms(25_000)),
            Duration::ZERO,
            "a held poll"
        );
    }
}

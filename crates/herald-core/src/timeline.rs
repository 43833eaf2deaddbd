//! The online/offline timeline over a window, from the state transitions: pure.

use serde::Serialize;
use wa_client::UnixMillis;

/// One stretch of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub start_ms: UnixMillis,
    pub end_ms: UnixMillis,
    /// Online, offline, or unknown (before anything was recorded: Herald was not running or
    /// not yet installed).
    pub state: SpanState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SpanState {
    Online,
    Offline,
    Unknown,
}

/// The timeline of `[from_ms, to_ms)` given transitions `(at_ms, online)` sorted by time,
/// which may start before the window. Adjacent spans never share a state; the spans cover the
/// window exactly.
pub fn spans(
    transitions: &[(UnixMillis, bool)],
    from_ms: UnixMillis,
    to_ms: UnixMillis,
) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    if to_ms <= from_ms {
        return out;
    }
    let mut push = |start: UnixMillis, end: UnixMillis, state: SpanState| {
        if end <= start {
            return;
        }
        match out.last_mut() {
            Some(last) if last.state == state && last.end_ms == start => last.end_ms = end,
            _ => out.push(Span {
                start_ms: start,
                end_ms: end,
                state,
            }),
        }
    };
    let mut cursor = from_ms;
    let mut current = SpanState::Unknown;
    for &(at, online) in transitions {
        let at = at.clamp(from_ms, to_ms);
        push(cursor, at, current);
        cursor = cursor.max(at);
        current = if online {
            SpanState::Online
        } else {
            SpanState::Offline
        };
    }
    push(cursor, to_ms, current);
    out
}

/// The share of the window that was online, from 0 to 1, over the known part of it.
pub fn uptime(spans: &[Span]) -> Option<f64> {
    let (mut online, mut known) = (0u64, 0u64);
    for s in spans {
        let len = s.end_ms.as_millis().saturating_sub(s.start_ms.as_millis());
        match s.state {
            SpanState::Online => {
                online += len;
                known += len;
            }
            SpanState::Offline => known += len,
            SpanState::Unknown => {}
        }
    }
    (known > 0).then(|| online as f64 / known as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpanState::*;

    /// Times in the tests are offsets from 1000 ms, so some can fall before the window.
    fn t(offset: i64) -> UnixMillis {
        UnixMillis(u64::try_from(1000 + offset).unwrap())
    }

    fn s(start: i64, end: i64, state: SpanState) -> Span {
        Span {
            start_ms: t(start),
            end_ms: t(end),
            state,
        }
    }

    #[test]
    fn table() {
        type Case = (Vec<(i64, bool)>, i64, i64, Vec<Span>);
        let cases: Vec<Case> = vec![
            (vec![], 0, 100, vec![s(0, 100, Unknown)]),
            (
                vec![(10, true)],
                0,
                100,
                vec![s(0, 10, Unknown), s(10, 100, Online)],
            ),
            (
                vec![(-50, true), (40, false), (60, true)],
                0,
                100,
                vec![s(0, 40, Online), s(40, 60, Offline), s(60, 100, Online)],
            ),
            (
                vec![(-50, false), (150, true)],
                0,
                100,
                vec![s(0, 100, Offline)],
            ),
            (
                vec![(10, true), (10, false)],
                0,
                20,
                vec![s(0, 10, Unknown), s(10, 20, Offline)],
            ),
            (vec![(5, true)], 50, 50, vec![]),
        ];
        for (transitions, from, to, want) in cases {
            let at: Vec<(UnixMillis, bool)> =
                transitions.iter().map(|&(at, on)| (t(at), on)).collect();
            assert_eq!(
                spans(&at, t(from), t(to)),
                want,
                "{transitions:?} {from}..{to}"
            );
        }
    }

    #[test]
    fn uptime_ignores_the_unknown() {
        let sp = spans(&[(t(50), true), (t(80), false)], t(0), t(100));
        assert_eq!(uptime(&sp), Some(30.0 / 50.0));
        assert_eq!(uptime(&spans(&[], t(0), t(100))), None);
    }
}

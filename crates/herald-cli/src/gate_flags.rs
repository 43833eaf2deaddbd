//! The send gate's limits as flags of the commands that run the scheduler (`connect`): the
//! random pause between two sends, the least time between two sends to one chat, and the
//! hourly cap. The defaults are the gate's own (4–12 s, 30 s, 60 an hour), which keep a
//! burst from looking like spam; a simulator run or a test may open them up.

use std::time::Duration;

use clap::Args;
use herald_core::schedule::gate::GateConfig;
use herald_core::schedule::runner::RunnerConfig;

/// `--send-gap`, `--chat-gap`, `--hourly-cap`.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// The random pause between any two sends, MIN-MAX or one value (e.g. 4s-12s, 500ms, 0s).
    #[arg(long, value_name = "MIN-MAX", env = "HERALD_SEND_GAP", value_parser = parse_gap)]
    pub send_gap: Option<(Duration, Duration)>,
    /// The least time between two sends to the same chat (e.g. 30s, 2m, 0s).
    #[arg(long, value_name = "DURATION", env = "HERALD_CHAT_GAP", value_parser = parse_span)]
    pub chat_gap: Option<Duration>,
    /// The most sends in any hour.
    #[arg(long, value_name = "N", env = "HERALD_HOURLY_CAP", value_parser = clap::value_parser!(u32).range(1..))]
    pub hourly_cap: Option<u32>,
}

impl GateArgs {
    /// The runner's configuration with these limits over the defaults.
    pub fn runner(&self) -> RunnerConfig {
        let defaults = GateConfig::default();
        let (min_gap, max_gap) = self
            .send_gap
            .unwrap_or((defaults.min_gap, defaults.max_gap));
        RunnerConfig {
            gate: GateConfig {
                min_gap,
                max_gap,
                per_chat: self.chat_gap.unwrap_or(defaults.per_chat),
                hourly_cap: self.hourly_cap.unwrap_or(defaults.hourly_cap),
                seed: None,
            },
            ..RunnerConfig::default()
        }
    }
}

/// `500ms`, `4s`, `2m`, `1h`: up to a day.
fn parse_span(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(digits);
    let bad = || {
        format!("{text:?} is not a duration: use a number and ms, s, m or h (e.g. 500ms, 4s, 2m)")
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    let span = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(bad()),
    };
    if span > Duration::from_secs(86_400) {
        return Err(format!("{text:?} is longer than a day"));
    }
    Ok(span)
}

/// `4s-12s` or one duration for both ends.
fn parse_gap(text: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = match text.split_once('-') {
        Some((min, max)) => (parse_span(min)?, parse_span(max)?),
        None => {
            let one = parse_span(text)?;
            (one, one)
        }
    };
    if min > max {
        return Err(format!(
            "{text:?}: the shortest pause is longer than the longest"
        ));
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_spans() {
        let s = Duration::from_secs;
        let table: &[(&str, Option<(Duration, Duration)>)] = &[
            ("4s-12s", Some((s(4), s(12)))),
            ("0s", Some((s(0), s(0)))),
            ("500ms-2s", Some((Duration::from_millis(500), s(2)))),
            ("1m", Some((s(60), s(60)))),
            ("12s-4s", None),
            ("4", None),
            ("-4s", None),
            ("4x", None),
            ("25h", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_gap(text).ok(), *want, "{text:?}");
        }
    }

    #[test]
    fn unset_flags_keep_the_gate_defaults() {
        let none = GateArgs {
            send_gap: None,
            chat_gap: None,
            hourly_cap: None,
        };
        assert_eq!(none.runner().gate, GateConfig::default());
        let open = GateArgs {
            send_gap: Some((Duration::ZERO, Duration::ZERO)),
            chat_gap: Some(Duration::ZERO),
            hourly_cap: Some(10_000),
        };
        let gate = open.runner().gate;
        assert_eq!(
            (gate.min_gap, gate.max_gap, gate.per_chat),
            (Duration::ZERO, Duration::ZERO, Duration::ZERO)
        );
        assert_eq!(gate.hourly_cap, 10_000);
    }
}

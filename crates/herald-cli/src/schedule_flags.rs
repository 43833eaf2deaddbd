//! The timing flags of `herald-cli schedule add` and `preview`, and turning them into a
//! checked [`Timing`]: every mistake is a one-line usage error (exit 2).

use clap::Args;
use herald_core::schedule::planner;
use herald_core::schedule::timing::{CatchUp, End, MonthDay, Repeat, Timing, Weekdays};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::error::CliError;

/// The timing flags `add` and `preview` share.
#[derive(Debug, Clone, Args)]
pub struct TimingArgs {
    /// The first send, local time in --tz.
    #[arg(
        long,
        value_name = "YYYY-MM-DD HH:MM",
        required_unless_present = "in_",
        conflicts_with = "in_"
    )]
    at: Option<String>,
    /// The first send, this long from now: 90s, 10m, 2h, 3d.
    #[arg(long = "in", value_name = "DURATION")]
    in_: Option<String>,
    /// IANA time zone (default: the system's).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Repeat: day, week, month, year, or Nd, Nw, Nm.
    #[arg(long, value_name = "day|week|month|year|Nd|Nw|Nm")]
    every: Option<String>,
    /// Weekdays of a weekly schedule.
    #[arg(long, value_name = "mon,tue,…")]
    on: Option<String>,
    /// A monthly schedule on the month's last day.
    #[arg(long)]
    last_day: bool,
    /// The last date a repeating schedule sends on (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "count")]
    until: Option<String>,
    /// How many sends, the first included.
    #[arg(long, value_name = "N")]
    count: Option<u32>,
}

impl TimingArgs {
    /// The timing these flags describe, checked; `now` resolves `--in` and refuses a one-shot
    /// in the past.
    pub fn build(&self, now: Timestamp) -> Result<Timing, CliError> {
        let zone_name = match &self.tz {
            Some(name) => name.clone(),
            None => system_zone()?,
        };
        let zone = TimeZone::get(&zone_name).map_err(|_| {
            CliError::Usage(format!(
                "unknown time zone {zone_name:?} (use an IANA name such as Europe/Berlin)"
            ))
        })?;
        let start = match (&self.at, &self.in_) {
            (Some(at), _) => parse_local(at)?,
            (None, Some(delay)) => {
                let delay = parse_duration(delay, "--in")?;
                let at = now
                    .checked_add(delay)
                    .map_err(|_| CliError::Usage(format!("--in {delay}: too far ahead")))?;
                let local = zone.to_datetime(at);
                local.with().subsec_nanosecond(0).build().unwrap_or(local)
            }
            (None, None) => {
                return Err(CliError::Usage("give --at or --in".into()));
            }
        };
        let repeat = self.repeat(start)?;
        let end = match (&self.until, self.count) {
            (Some(until), _) => End::Until(until.parse::<Date>().map_err(|e| {
                CliError::Usage(format!("--until {until:?} is not a date YYYY-MM-DD: {e}"))
            })?),
            (None, Some(n)) => End::After(n),
            (None, None) => End::Never,
        };
        if repeat == Repeat::Once && end != End::Never {
            return Err(CliError::Usage(
                "--until and --count need --every (a one-shot sends once)".into(),
            ));
        }
        let timing = Timing::new(&zone_name, start, repeat, end).map_err(|e| usage(&e))?;
        if repeat == Repeat::Once && planner::next_after(&timing, now).is_none() {
            return Err(CliError::Usage(format!(
                "{} in {zone_name} is in the past",
                start.strftime("%Y-%m-%d %H:%M")
            )));
        }
        Ok(timing)
    }

    fn repeat(&self, start: DateTime) -> Result<Repeat, CliError> {
        let Some(every) = &self.every else {
            if self.on.is_some() || self.last_day {
                return Err(CliError::Usage(
                    "--on and --last-day need --every (week or month)".into(),
                ));
            }
            return Ok(Repeat::Once);
        };
        let (n, unit) = match every.as_str() {
            "day" => (1, 'd'),
            "week" => (1, 'w'),
            "month" => (1, 'm'),
            "year" => (1, 'y'),
            other => {
                let unit = other.chars().last().unwrap_or(' ');
                let digits = &other[..other.len().saturating_sub(unit.len_utf8())];
                match (digits.parse::<u16>(), unit) {
                    (Ok(n), 'd' | 'w' | 'm') if n > 0 => (n, unit),
                    _ => {
                        return Err(CliError::Usage(format!(
                        "--every {other:?}: use day, week, month, year, or Nd, Nw, Nm (e.g. 2w)"
                    )))
                    }
                }
            }
        };
        if self.on.is_some() && unit != 'w' {
            return Err(CliError::Usage(
                "--on only applies to a weekly --every".into(),
            ));
        }
        if self.last_day && unit != 'm' {
            return Err(CliError::Usage(
                "--last-day only applies to a monthly --every".into(),
            ));
        }
        Ok(match unit {
            'd' => Repeat::Days { every: n },
            'w' => Repeat::Weeks {
                every: n,
                on: match &self.on {
                    Some(list) => Weekdays::parse_list(list).map_err(|e| usage(&e))?,
                    None => Weekdays::default().with(start.weekday()),
                },
            },
            'm' => Repeat::Months {
                every: n,
                on: if self.last_day {
                    MonthDay::LastDay
                } else {
                    MonthDay::StartDay
                },
            },
            _ => Repeat::Years { every: n },
        })
    }
}

fn system_zone() -> Result<String, CliError> {
    // TZ wins, as everywhere on Unix; then the OS's own setting.
    if let Ok(tz) = std::env::var("TZ") {
        let name = tz.trim_start_matches(':');
        if TimeZone::get(name).is_ok() {
            return Ok(name.to_owned());
        }
    }
    TimeZone::try_system()
        .ok()
        .and_then(|z| z.iana_name().map(str::to_owned))
        .ok_or_else(|| CliError::Usage("cannot tell the system's time zone; pass --tz ZONE".into()))
}

fn parse_local(text: &str) -> Result<DateTime, CliError> {
    let bad = |why: String| CliError::Usage(format!("--at {text:?}: {why}"));
    let (date, time) = text
        .trim()
        .split_once([' ', 'T'])
        .ok_or_else(|| bad("use \"YYYY-MM-DD HH:MM\"".into()))?;
    let date: Date = date
        .parse()
        .map_err(|e| bad(format!("no such date ({e})")))?;
    let time: jiff::civil::Time = time
        .parse()
        .map_err(|e| bad(format!("no such time ({e})")))?;
    Ok(date.to_datetime(time))
}

/// `90s`, `10m`, `2h`, `3d`.
fn parse_duration(text: &str, flag: &str) -> Result<SignedDuration, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "{flag} {text:?}: use a number and s, m, h or d (e.g. 90s, 10m, 2h, 3d)"
        ))
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let n: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    if n <= 0 || n > 36_500 * 86_400 / secs {
        return Err(bad());
    }
    Ok(SignedDuration::from_secs(n * secs))
}

pub fn parse_catch_up(text: Option<&str>) -> Result<CatchUp, CliError> {
    match text {
        None => Ok(CatchUp::Default),
        Some("skip") => Ok(CatchUp::Skip),
        Some("always") => Ok(CatchUp::Always),
        Some(window) => {
            CatchUp::within(parse_duration(window, "--catch-up")?).map_err(|e| usage(&e))
        }
    }
}

pub fn usage(e: &dyn std::error::Error) -> CliError {
    CliError::Usage(e.to_string())
}

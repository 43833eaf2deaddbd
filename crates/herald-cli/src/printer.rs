//! What `connect` and `pair-code` print: one JSON object per line with `--json` (the engine's
//! own events, nothing else), or lines for a person, with the QR code drawn in the terminal.

use std::io::{IsTerminal, Write};

use herald_core::export::iso8601;
use herald_core::presentation::ConnectionView;
use herald_core::service::ServiceEvent;
use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use wa_client::{DecisionKind, EngineEvent, UnixMillis};

use crate::error::CliError;

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One engine event per line, as JSON.
    Json,
    /// Lines for a person.
    Human {
        /// Draw QR codes (`pair-code` links by number and leaves them out).
        show_qr: bool,
    },
}

/// Prints events to stdout in one format.
pub struct Printer {
    format: Format,
    /// Whether stdout is a terminal: then the QR countdown rewrites its own line each second.
    terminal: bool,
    /// The last view printed, so a repeat (after a lagged re-read) prints nothing.
    last: Option<ViewKey>,
    /// The QR's expiry while its countdown line is the last thing on screen.
    countdown: Option<UnixMillis>,
}

#[derive(PartialEq, Eq)]
struct ViewKey {
    state: &'static str,
    label: String,
    detail: String,
    qr: Option<String>,
    code: Option<String>,
}

impl Printer {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            terminal: std::io::stdout().is_terminal(),
            last: None,
            countdown: None,
        }
    }

    /// Whether a countdown is running (the caller ticks it once a second).
    pub fn counting(&self) -> bool {
        self.terminal && self.countdown.is_some()
    }

    /// Prints one service event, if this format shows it.
    pub fn event(&mut self, event: &ServiceEvent, now_ms: u64) -> Result<(), CliError> {
        match (self.format, event) {
            (Format::Json, ServiceEvent::Engine(e)) => {
                let line = serde_json::to_string(e)
                    .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
                emit(&format!("{line}\n"))
            }
            (Format::Json, _) => Ok(()),
            (Format::Human { .. }, ServiceEvent::Connection(view)) => self.view(view, now_ms),
            (Format::Human { .. }, ServiceEvent::Engine(e)) => self.engine(e),
            (Format::Human { .. }, ServiceEvent::Alert(a)) => {
                self.line(&format!("! {}: {}", a.summary, a.body))
            }
            (
                Format::Human { .. },
                ServiceEvent::Health(_) | ServiceEvent::History(_) | ServiceEvent::Schedules(_),
            ) => Ok(()),
        }
    }

    /// Prints a line for a person (ends a running countdown first).
    pub fn line(&mut self, text: &str) -> Result<(), CliError> {
        if self.format == Format::Json {
            return Ok(());
        }
        let end = if self.countdown.take().is_some() && self.terminal {
            "\n"
        } else {
            ""
        };
        emit(&format!("{end}{text}\n"))
    }

    /// Rewrites the countdown line.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), CliError> {
        match self.countdown {
            Some(expires) if self.terminal => {
                emit(&format!("\r\x1b[2K{}", countdown_text(expires, now_ms)))
            }
            _ => Ok(()),
        }
    }

    fn view(&mut self, view: &ConnectionView, now_ms: u64) -> Result<(), CliError> {
        let key = ViewKey {
            state: view.state,
            label: view.label.clone(),
            detail: view.detail.clone(),
            qr: view.qr.as_ref().map(|q| q.text.clone()),
            code: view.pair_code.clone(),
        };
        if self.last.as_ref() == Some(&key) {
            return Ok(());
        }
        self.last = Some(key);
        let at = clock(view.since_ms.unwrap_or(UnixMillis(now_ms)));
        let show_qr = matches!(self.format, Format::Human { show_qr: true });
        match (&view.qr, &view.pair_code) {
            (Some(qr), _) if show_qr => {
                let drawn = draw_qr(&qr.text)?;
                self.line(&format!(
                    "{at} {} — {}\n{drawn}QR code {} of {}",
                    view.label, view.detail, qr.index, qr.total
                ))?;
                self.countdown = Some(qr.expires_at_ms);
                if self.terminal {
                    self.tick(now_ms)
                } else {
                    emit(&format!("{}\n", countdown_text(qr.expires_at_ms, now_ms)))
                }
            }
            // Linking by number: the QR codes shown meanwhile are not for this user.
            (Some(_), _) => Ok(()),
            (None, Some(code)) => self.line(&format!(
                "{at} {}\n\n    {code}\n\n{}",
                view.label, view.detail
            )),
            (None, None) => {
                let account = match (&view.account, view.state) {
                    (Some(a), "online") => format!(" as {a}"),
                    _ => String::new(),
                };
                self.line(&format!("{at} {}{account} — {}", view.label, view.detail))
            }
        }
    }

    fn engine(&mut self, event: &EngineEvent) -> Result<(), CliError> {
        match event {
            EngineEvent::Disconnected(d) => {
                let code = d.code.map(|c| format!(", code {c}")).unwrap_or_default();
                let decision = match (d.decision, &d.stop) {
                    (DecisionKind::Stop, Some(end)) => format!("stop ({})", end.key()),
                    (DecisionKind::Stop, None) => "stop".into(),
                    (DecisionKind::Backoff, _) => format!(
                        "backoff, retry in {:.1} s",
                        d.delay_ms.unwrap_or(0) as f64 / 1000.0
                    ),
                    (DecisionKind::ReconnectNow, _) => "reconnect now".into(),
                };
                self.line(&format!(
                    "{} disconnected: {} ({}{code}) → {decision}. {}",
                    clock(d.at_ms),
                    d.title,
                    d.cause.key(),
                    d.advice
                ))
            }
            EngineEvent::Paired { jid, platform, .. } => {
                let from = platform
                    .as_deref()
                    .map(|p| format!(" from {p}"))
                    .unwrap_or_default();
                self.line(&format!("Linked as {jid}{from}."))
            }
            EngineEvent::LoggedOut {
                archive: Some(path),
                ..
            } => self.line(&format!("The session was archived at {path}.")),
            _ => Ok(()),
        }
    }
}

/// The QR code as text: two rows of modules per line, quiet zone included, drawn for a dark
/// terminal background (dark modules are left as background).
pub fn draw_qr(text: &str) -> Result<String, CliError> {
    let code = QrCode::new(text.as_bytes())
        .map_err(|e| CliError::Ended(format!("the QR code cannot be drawn: {e}")))?;
    let mut drawn = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    drawn.push('\n');
    Ok(drawn)
}

fn countdown_text(expires_at: UnixMillis, now_ms: u64) -> String {
    let left = expires_at
        .saturating_duration_since(UnixMillis(now_ms))
        .as_millis()
        .div_ceil(1000);
    format!("Expires in {left} s (at {}).", clock(expires_at))
}

/// `HH:MM:SSZ` of a time.
fn clock(at: UnixMillis) -> String {
    let iso = iso8601(at);
    format!("{}Z", iso.get(11..19).unwrap_or(&iso))
}

/// Writes and flushes, so a reader of a pipe sees each line at once.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_draw_as_text() {
        let drawn = draw_qr("https://wa.me/settings/linked_devices#2@abc,def,ghi,jkl").unwrap();
        let lines: Vec<&str> = drawn.lines().collect();
        assert!(lines.len() > 10);
        assert!(lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count()));
    }

    #[test]
    fn countdown_and_clock() {
        assert_eq!(clock(UnixMillis(3_723_000)), "01:02:03Z");
        assert_eq!(
            countdown_text(UnixMillis(60_000), 500),
            "Expires in 60 s (at 00:01:00Z)."
        );
    }
}

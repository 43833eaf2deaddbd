//! `herald-cli send --batch FILE|-`: many texts over one connection, one after the other, each
//! waited for until the server's answer. Lines are read as they come (a producer can feed
//! stdin and read the answers as it goes), each a JSON object `{"to":…,"text":…}`; every line
//! gets one event. A bad line is reported and skipped, nothing sent for it. The exit code is
//! the worst that happened: 4 if any message is in doubt, else 1 if any was refused or not
//! sent (or the batch stopped early), else 2 if any line was bad, else 0.
//!
//! There is no spacing between the sends (the scheduler's gate is not involved): this is for
//! a person or a script that decides what to send and when, as one `send` per message would.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use herald_core::offline;
use herald_core::service::{Service, ServiceOptions};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use wa_client::{Outcome, Recipient, SendError, UnixMillis};

use crate::connect::runtime;
use crate::error::{exit, CliError};
use crate::printer::emit;
use crate::send::send_when_online;
use crate::stop::StopSignals;

/// Lines read ahead of the one being sent.
const READ_AHEAD: usize = 64;

/// One input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    to: String,
    text: String,
}

/// What a line asks for, once checked.
#[derive(Debug, PartialEq)]
struct Request {
    to: Recipient,
    text: String,
}

/// Checks one line; the error says what is wrong in the user's words.
fn parse_line(line: &str) -> Result<Request, String> {
    let shape = || "not a JSON object {\"to\":…,\"text\":…}".to_owned();
    // serde would also take an array for the struct; only an object is meant.
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("{}: {e}", shape()))?;
    if !value.is_object() {
        return Err(shape());
    }
    let parsed: Line = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let to = parsed
        .to
        .parse()
        .map_err(|e: wa_client::messaging::RecipientError| e.to_string())?;
    if parsed.text.is_empty() {
        return Err("the message text is empty".into());
    }
    Ok(Request {
        to,
        text: parsed.text,
    })
}

/// One event per input line (and a summary at the end), printed as JSON with `--json`.
#[derive(Debug, Serialize)]
#[serde(
    rename_all = "camelCase",
    tag = "event",
    rename_all_fields = "camelCase"
)]
enum Event<'a> {
    /// Acked by the server at `t`.
    Sent {
        line: u64,
        id: &'a str,
        to: &'a str,
        t: UnixMillis,
    },
    /// Refused by the server.
    Rejected {
        line: u64,
        id: &'a str,
        to: &'a str,
        code: u16,
        retryable: bool,
        advice: &'a str,
    },
    /// Written, not confirmed: it may have arrived.
    InDoubt { line: u64, id: &'a str, to: &'a str },
    /// Nothing was sent for this line (e.g. a number without WhatsApp).
    NotSent { line: u64, error: &'a str },
    /// The line is not a valid request; nothing was sent for it.
    Invalid { line: u64, error: &'a str },
    /// The batch ended early, after `line`; later lines were not read.
    Stopped { line: u64, reason: &'a str },
    /// The totals, once every line was answered.
    Done {
        sent: u64,
        rejected: u64,
        in_doubt: u64,
        not_sent: u64,
        invalid: u64,
    },
}

impl Event<'_> {
    fn human(&self) -> String {
        match self {
            Event::Sent { line, id, to, .. } => format!("line {line}: sent {id} to {to}."),
            Event::Rejected {
                line,
                id,
                code,
                advice,
                ..
            } => format!("line {line}: WhatsApp refused message {id} ({code}): {advice}"),
            Event::InDoubt { line, id, .. } => format!(
                "line {line}: message {id} was written but WhatsApp did not confirm it; it may have arrived"
            ),
            Event::NotSent { line, error } => format!("line {line}: not sent: {error}"),
            Event::Invalid { line, error } => format!("line {line}: bad line, skipped: {error}"),
            Event::Stopped { line, reason } => {
                format!("stopped after line {line}: {reason}; later lines were not sent")
            }
            Event::Done {
                sent,
                rejected,
                in_doubt,
                not_sent,
                invalid,
            } => format!(
                "{sent} sent, {rejected} refused, {in_doubt} in doubt, {not_sent} not sent, {invalid} bad lines."
            ),
        }
    }
}

/// How the batch went, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    sent: u64,
    rejected: u64,
    in_doubt: u64,
    not_sent: u64,
    invalid: u64,
    stopped: bool,
}

impl Tally {
    /// The exit code: the worst that happened, in-doubt first because it is the one a caller
    /// must not simply retry.
    fn exit_code(&self) -> u8 {
        if self.in_doubt > 0 {
            exit::IN_DOUBT
        } else if self.rejected > 0 || self.not_sent > 0 || self.stopped {
            exit::FAILURE
        } else if self.invalid > 0 {
            exit::USAGE
        } else {
            0
        }
    }
}

/// Whether the batch can go on after this error with the next line.
fn fatal(e: &CliError) -> bool {
    match e {
        // The message's own problem (a number without WhatsApp, no device…), or the link
        // dropped just before it; the next line waits for the link again.
        CliError::Send(
            SendError::NotOnWhatsApp(_)
            | SendError::NoDevices(_)
            | SendError::NoUsableDevice { .. }
            | SendError::Group { .. }
            | SendError::NotConnected,
        ) => false,
        _ => true,
    }
}

/// A read line: its number and text, or why it could not be read.
type InputLine = (u64, Result<String, String>);

/// Reads `source` on a thread of its own (stdin has no async reader in our runtime), line by
/// line, so a producer writing into a pipe is answered as it goes.
fn spawn_reader(source: Box<dyn Read + Send>) -> mpsc::Receiver<InputLine> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let mut n = 0;
        for chunk in BufReader::new(source).split(b'\n') {
            n += 1;
            let item = match chunk {
                Ok(bytes) => String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned()),
                Err(e) => {
                    // A read error ends the input; what was read is still answered.
                    let _ = tx.blocking_send((n, Err(format!("cannot read the input: {e}"))));
                    break;
                }
            };
            if tx.blocking_send((n, item)).is_err() {
                break;
            }
        }
    });
    rx
}

/// `send --batch`.
pub fn run(source: &Path, options: ServiceOptions, json: bool) -> Result<(), CliError> {
    let input: Box<dyn Read + Send> = if source == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(source)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", source.display())))?,
        )
    };
    let status = offline::status(&options.data_dir, UnixMillis::EPOCH)?;
    if !status.linked {
        return Err(CliError::Usage(
            "this data folder is not linked to a phone; run `herald-cli connect` first".into(),
        ));
    }
    let print = |event: Event<'_>| -> Result<(), CliError> {
        let text = if json {
            serde_json::to_string(&event).map_err(|e| CliError::Output(std::io::Error::other(e)))?
        } else {
            event.human()
        };
        emit(&format!("{text}\n"))
    };
    let tally = runtime()?.block_on(async {
        let mut stop = StopSignals::install()?;
        let service = Service::start(options)?;
        let result = send_all(&service, spawn_reader(input), &mut stop, &print).await;
        if tokio::time::timeout(crate::send::SHUTDOWN_GRACE, service.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time; exiting anyway");
        }
        result
    })?;
    print(Event::Done {
        sent: tally.sent,
        rejected: tally.rejected,
        in_doubt: tally.in_doubt,
        not_sent: tally.not_sent,
        invalid: tally.invalid,
    })?;
    match tally.exit_code() {
        0 => Ok(()),
        code => Err(CliError::Batch(code)),
    }
}

async fn send_all(
    service: &Service,
    mut lines: mpsc::Receiver<InputLine>,
    stop: &mut StopSignals,
    print: &impl Fn(Event<'_>) -> Result<(), CliError>,
) -> Result<Tally, CliError> {
    let mut tally = Tally::default();
    let mut last = 0;
    loop {
        // A stop signal is only taken between messages: a send once begun is seen through.
        let next = tokio::select! {
            biased;
            () = stop.wait() => {
                tally.stopped = true;
                print(Event::Stopped { line: last, reason: "asked to stop" })?;
                return Ok(tally);
            }
            next = lines.recv() => next,
        };
        let Some((n, item)) = next else {
            return Ok(tally);
        };
        last = n;
        let text = match item {
            Ok(text) => text,
            Err(error) => {
                tally.invalid += 1;
                print(Event::Invalid {
                    line: n,
                    error: &error,
                })?;
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let request = match parse_line(&text) {
            Ok(r) => r,
            Err(error) => {
                tally.invalid += 1;
                print(Event::Invalid {
                    line: n,
                    error: &error,
                })?;
                continue;
            }
        };
        match send_when_online(service, request.to, &request.text).await {
            Ok((id, to, Outcome::Acked { t })) => {
                tally.sent += 1;
                print(Event::Sent {
                    line: n,
                    id: &id,
                    to: &to,
                    t,
                })?;
            }
            Ok((
                id,
                to,
                Outcome::Rejected {
                    code,
                    retryable,
                    advice,
                },
            )) => {
                tally.rejected += 1;
                print(Event::Rejected {
                    line: n,
                    id: &id,
                    to: &to,
                    code,
                    retryable,
                    advice: &advice,
                })?;
            }
            Ok((id, to, Outcome::InDoubt)) => {
                tally.in_doubt += 1;
                print(Event::InDoubt {
                    line: n,
                    id: &id,
                    to: &to,
                })?;
            }
            Err(e) if !fatal(&e) => {
                tally.not_sent += 1;
                let error = crate::error::chain(&e);
                print(Event::NotSent {
                    line: n,
                    error: &error,
                })?;
            }
            Err(e) => {
                tally.not_sent += 1;
                tally.stopped = true;
                let error = crate::error::chain(&e);
                print(Event::NotSent {
                    line: n,
                    error: &error,
                })?;
                print(Event::Stopped {
                    line: n,
                    reason: &error,
                })?;
                return Ok(tally);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_core::binary::{Jid, Server};

    #[test]
    fn lines_are_checked_before_anything_is_sent() {
        let ok = parse_line(r#"{"to":"15551230000@s.whatsapp.net","text":"hi"}"#).unwrap();
        assert_eq!(
            ok,
            Request {
                to: Recipient::User(Jid::new("15551230000", Server::Pn)),
                text: "hi".into()
            }
        );
        assert!(matches!(
            parse_line(r#"{"to":"123-456@g.us","text":"x"}"#)
                .unwrap()
                .to,
            Recipient::Group(_)
        ));
        let bad = [
            ("not json", "not a JSON object"),
            (r#"["+1555","x"]"#, "not a JSON object"),
            (r#"{"to":"+15551230000"}"#, "missing field `text`"),
            (
                r#"{"to":"+15551230000","text":"x","at":1}"#,
                "unknown field `at`",
            ),
            (r#"{"to":"nobody","text":"x"}"#, "nobody"),
            (r#"{"to":"+15551230000","text":""}"#, "empty"),
        ];
        for (line, says) in bad {
            let e = parse_line(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn the_exit_code_is_the_worst_outcome() {
        let t = |sent, rejected, in_doubt, not_sent, invalid, stopped| Tally {
            sent,
            rejected,
            in_doubt,
            not_sent,
            invalid,
            stopped,
        };
        let table = [
            (t(0, 0, 0, 0, 0, false), 0),
            (t(5, 0, 0, 0, 0, false), 0),
            (t(5, 0, 0, 0, 1, false), exit::USAGE),
            (t(5, 1, 0, 0, 1, false), exit::FAILURE),
            (t(5, 0, 0, 1, 0, false), exit::FAILURE),
            (t(5, 0, 0, 0, 0, true), exit::FAILURE),
            (t(5, 1, 1, 1, 1, true), exit::IN_DOUBT),
            (t(0, 0, 1, 0, 0, false), exit::IN_DOUBT),
        ];
        for (tally, code) in table {
            assert_eq!(tally.exit_code(), code, "{tally:?}");
        }
    }

    #[test]
    fn only_a_messages_own_problem_lets_the_batch_go_on() {
        let table = [
            (
                CliError::Send(SendError::NotOnWhatsApp("1555".into())),
                false,
            ),
            (CliError::Send(SendError::NotConnected), false),
            (CliError::Send(SendError::Stopped), true),
            (CliError::Send(SendError::NotLinked), true),
            (
                CliError::Ended("not sent: the connection is loggedOut".into()),
                true,
            ),
            (CliError::TimedOut("not connected within 30 s".into()), true),
        ];
        for (e, stops) in table {
            assert_eq!(fatal(&e), stops, "{e}");
        }
    }

    #[test]
    fn events_are_camel_case_json_with_an_event_key() {
        let line = serde_json::to_string(&Event::InDoubt {
            line: 3,
            id: "3EB0AA",
            to: "1@s.whatsapp.net",
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"event":"inDoubt","line":3,"id":"3EB0AA","to":"1@s.whatsapp.net"}"#
        );
        let done = serde_json::to_string(&Event::Done {
            sent: 1,
            rejected: 0,
            in_doubt: 2,
            not_sent: 0,
            invalid: 0,
        })
        .unwrap();
        assert!(done.contains(r#""inDoubt":2"#), "{done}");
        assert!(done.contains(r#""notSent":0"#), "{done}");
    }
}

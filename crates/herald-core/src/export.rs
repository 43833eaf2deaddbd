//! The history as CSV (RFC 4180, by the `csv` crate), for spreadsheets; times as UTC RFC 3339
//! with milliseconds, by jiff.

use jiff::fmt::temporal::DateTimePrinter;
use jiff::Timestamp;
use wa_client::UnixMillis;

use crate::history::DisconnectRecord;

/// Why the CSV could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The CSV writer failed (only the output can fail: every field is text).
    #[error("writing the history as CSV")]
    Csv(#[from] csv::Error),
}

const HEADER: [&str; 9] = [
    "time_utc",
    "cause",
    "title",
    "code",
    "decision",
    "attempt",
    "delay_ms",
    "online_before_ms",
    "advice",
];

/// Writes the header and one line per record to `out`, CRLF-terminated.
pub fn write_csv(
    out: impl std::io::Write,
    records: &[DisconnectRecord],
) -> Result<(), ExportError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(HEADER)?;
    let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    for r in records {
        w.write_record([
            iso8601(r.at_ms),
            defuse(&r.cause),
            defuse(&r.title),
            number(r.code.map(u64::from)),
            defuse(&r.decision),
            number(r.attempt.map(u64::from)),
            number(r.delay_ms),
            number(r.online_for_ms),
            defuse(&r.advice),
        ])?;
    }
    w.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// The CSV as text (see [`write_csv`]).
pub fn csv(records: &[DisconnectRecord]) -> Result<String, ExportError> {
    let mut out = Vec::new();
    write_csv(&mut out, records)?;
    // Every field went in as UTF-8, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A field a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`) gets a leading
/// apostrophe, which keeps it text.
fn defuse(field: &str) -> String {
    if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_owned()
    }
}

/// A time as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, always three fraction digits).
pub fn iso8601(at: UnixMillis) -> String {
    // Past jiff's range (the end of year 9999) is no time a clock gives; jiff's last instant
    // stands in rather than failing a whole export.
    let ts = i64::try_from(at.as_millis())
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::MAX);
    DateTimePrinter::new()
        .precision(Some(3))
        .timestamp_to_string(&ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cause: &str, advice: &str) -> DisconnectRecord {
        DisconnectRecord {
            id: 1,
            at_ms: UnixMillis(0),
            cause: cause.into(),
            title: "Taken over".into(),
            code: Some(440),
            decision: "stop:replaced".into(),
            advice: advice.into(),
            attempt: None,
            delay_ms: None,
            online_for_ms: Some(1500),
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(UnixMillis(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(UnixMillis(1_752_021_890_123)),
            "2025-07-09T00:44:50.123Z"
        );
        assert_eq!(
            iso8601(UnixMillis(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        // jiff's last instant, not a wrapped-around year.
        assert_eq!(iso8601(UnixMillis(u64::MAX)), "9999-12-30T22:00:00.999Z");
    }

    #[test]
    fn rows_are_quoted_and_safe() {
        let text = csv(&[
            record("replaced", "Another \"client\", took over."),
            record("=SUM(A1)", "line\nbreak"),
        ])
        .unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "time_utc,cause,title,code,decision,attempt,delay_ms,online_before_ms,advice"
        );
        assert_eq!(
            lines[1],
            "1970-01-01T00:00:00.000Z,replaced,Taken over,440,stop:replaced,,,1500,\"Another \"\"client\"\", took over.\""
        );
        assert_eq!(
            lines[2],
            "1970-01-01T00:00:00.000Z,'=SUM(A1),Taken over,440,stop:replaced,,,1500,\"line\nbreak\""
        );
        assert_eq!(lines[3], "", "every line ends in CRLF");
        let mut back = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = back.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][8], "Another \"client\", took over.");
        assert_eq!(&rows[1][1], "'=SUM(A1)");
    }
}

//! The history as CSV (RFC 4180), for spreadsheets.

use crate::history::DisconnectRecord;
use wa_client::UnixMillis;

/// The header and one line per record, CRLF-terminated; times as UTC ISO-8601.
pub fn csv(records: &[DisconnectRecord]) -> String {
    let mut out = String::from(
        "time_utc,cause,title,code,decision,attempt,delay_ms,online_before_ms,advice\r\n",
    );
    for r in records {
        let fields = [
            iso8601(r.at_ms),
            r.cause.clone(),
            r.title.clone(),
            r.code.map(|c| c.to_string()).unwrap_or_default(),
            r.decision.clone(),
            r.attempt.map(|a| a.to_string()).unwrap_or_default(),
            r.delay_ms.map(|d| d.to_string()).unwrap_or_default(),
            r.online_for_ms.map(|d| d.to_string()).unwrap_or_default(),
            r.advice.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn quote(field: &str) -> String {
    // A leading = + - @ would run as a formula in a spreadsheet; a quote keeps it text.
    let risky = field.starts_with(['=', '+', '-', '@']);
    if risky || field.contains([',', '"', '\n', '\r']) {
        let body = if risky {
            format!("'{field}")
        } else {
            field.to_string()
        };
        format!("\"{}\"", body.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A time as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn iso8601(at: UnixMillis) -> String {
    // Past i64::MAX ms is some 292 million years away; clamp rather than wrap.
    let ms = i64::try_from(at.as_millis()).unwrap_or(i64::MAX);
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn rows_are_quoted_and_safe() {
        let r = DisconnectRecord {
            id: 1,
            at_ms: UnixMillis(0),
            cause: "replaced".into(),
            title: "Taken over".into(),
            code: Some(440),
            decision: "stop:replaced".into(),
            advice: "Another \"client\", took over.".into(),
            attempt: None,
            delay_ms: None,
            online_for_ms: Some(1500),
        };
        let text = csv(&[r]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[1],
            "1970-01-01T00:00:00.000Z,replaced,Taken over,440,stop:replaced,,,1500,\"Another \"\"client\"\", took over.\""
        );
        assert_eq!(quote("=SUM(A1)"), "\"'=SUM(A1)\"");
    }
}

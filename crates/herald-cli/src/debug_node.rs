//! `debug node decode|encode`: a line filter between hex frames and JSON nodes.
//!
//! One output line per input line, so a caller can feed thousands of items through one process
//! and pair answers with questions by position. A bad line answers `{"error": "..."}` and the
//! filter keeps going; only I/O failures end it early.

use std::io::{self, BufRead, BufWriter, Write};

use wa_core::binary;

use crate::node_json;

/// Which way the filter converts.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// Hex frame plaintext → JSON node.
    Decode,
    /// JSON node → hex frame plaintext.
    Encode,
}

/// Runs the filter over stdin and stdout until end of input.
pub fn run(direction: Direction) -> io::Result<()> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    filter(direction, stdin, stdout)
}

fn filter(direction: Direction, mut input: impl BufRead, output: impl Write) -> io::Result<()> {
    let mut out = BufWriter::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let answer = match std::str::from_utf8(&line) {
            Ok(text) => convert(direction, text.trim()),
            Err(e) => Err(format!("line is not UTF-8: {e}")),
        };
        match answer {
            Ok(text) => out.write_all(text.as_bytes())?,
            Err(message) => out.write_all(error_json(&message).as_bytes())?,
        }
        out.write_all(b"\n")?;
        // Interactive use sees each answer at once; the cost is one write per line.
        out.flush()?;
    }
    out.flush()
}

fn convert(direction: Direction, line: &str) -> Result<String, String> {
    if line.is_empty() {
        return Err("empty line".into());
    }
    match direction {
        Direction::Decode => {
            let bytes = hex::decode(line).map_err(|e| format!("invalid hex: {e}"))?;
            // Through the borrowed view, so the Baileys cross-check covers the engine's decoder.
            let mut inflated = Vec::new();
            let node = binary::view(&bytes, &mut inflated)
                .map(|v| v.to_node())
                .map_err(|e| format!("decode: {}", chain(&e)))?;
            Ok(node_json::to_json(&node))
        }
        Direction::Encode => {
            let node = node_json::from_json(line).map_err(|e| e.to_string())?;
            let bytes = binary::encode(&node).map_err(|e| format!("encode: {e}"))?;
            Ok(hex::encode(bytes))
        }
    }
}

/// The error and its sources, so "cannot inflate" also says why.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn error_json(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(direction: Direction, input: &str) -> Vec<String> {
        let mut out = Vec::new();
        filter(direction, input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn answers_every_line_in_order() {
        let out = run_on(Direction::Decode, "00f80119\nzz\n\n00f80119");
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], r#"{"tag":"iq","attrs":{}}"#);
        assert!(out[1].starts_with(r#"{"error":"invalid hex"#));
        assert_eq!(out[2], r#"{"error":"empty line"}"#);
        assert_eq!(out[3], out[0]);
    }

    #[test]
    fn encode_errors_do_not_stop_the_filter() {
        let out = run_on(Direction::Encode, "{\"tag\":\"\"}\n{\"tag\":\"iq\"}\n");
        assert!(out[0].starts_with(r#"{"error":"encode: node has an empty tag"#));
        assert_eq!(out[1], "00f80119");
    }
}

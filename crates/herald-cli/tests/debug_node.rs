//! `herald-cli debug node decode|encode` as a process: stdin lines in, stdout lines out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> (Vec<String>, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald-cli"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (lines, out.status.code().unwrap())
}

const PING_HEX: &str = "00f8091908ff831b2a3f1657042911fa0003";
const PING_JSON: &str =
    r#"{"tag":"iq","attrs":{"id":"1.2-3","xmlns":"w:p","type":"get","to":"@s.whatsapp.net"}}"#;

#[test]
fn decodes_worked_examples() {
    let input = [
        PING_HEX,
        "00f8031f11f70107ff88123456789012345f",
        "00f8061d5145044dfc04deadbeef",
        "02789cfbc129c9f1bf595acb5e2c9c4553f017033300324604d1",
    ]
    .join("\n");
    let (out, code) = run(&["debug", "node", "decode"], &input);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        [
            PING_JSON,
            r#"{"tag":"presence","attrs":{"to":"123456789012345:7@lid"}}"#,
            r#"{"tag":"enc","attrs":{"v":"2","type":"msg"},"content":{"b64":"3q2+7w=="}}"#,
            PING_JSON,
        ]
    );
}

#[test]
fn encodes_worked_examples_byte_exact() {
    let input = [
        PING_JSON,
        r#"{"tag":"presence","attrs":{"to":"15551234567:3@s.whatsapp.net"}}"#,
        r#"{"tag":"iq","attrs":{"id":"1.2-4","to":"@s.whatsapp.net","xmlns":"passive","type":"set"},"content":[{"tag":"active"}]}"#,
        r#"{"tag":"message","attrs":{"id":"3EB0ABCDEF0123456789AB","type":"text"}}"#,
    ]
    .join("\n");
    let (out, code) = run(&["debug", "node", "encode"], &input);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        [
            PING_HEX,
            "00f8031f11f70003ff8615551234567f",
            "00f80a1908ff831b2a4f11fa000316ec18045af801f801ec01",
            "00f8051308fb0b3eb0abcdef0123456789ab0438",
        ]
    );
}

#[test]
fn bad_lines_answer_errors_and_the_tool_keeps_going() {
    let input = format!("nothex\n00\n00f8\n{PING_HEX}\n");
    let (out, code) = run(&["debug", "node", "decode"], &input);
    assert_eq!(code, 0);
    assert_eq!(out.len(), 4);
    for line in &out[..3] {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["error"].is_string(), "{line}");
    }
    assert!(out[2].contains("offset"), "{}", out[2]);
    assert_eq!(out[3], PING_JSON);

    let (out, code) = run(&["debug", "node", "encode"], "{\"tag\":5}\nnot json\n");
    assert_eq!(code, 0);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|l| l.starts_with("{\"error\":")));
}

#[test]
fn decode_then_encode_reproduces_the_bytes() {
    let hexes = [
        PING_HEX,
        "00f8051f048889fc03416e6e",
        "00f80a1908ff831b2a3f1657042911fa0003f801f80156",
        "00f8031f11faff8615551234567f03",
    ];
    let (json, _) = run(&["debug", "node", "decode"], &hexes.join("\n"));
    let (again, code) = run(&["debug", "node", "encode"], &json.join("\n"));
    assert_eq!(code, 0);
    assert_eq!(again, hexes);
}

#[test]
fn empty_input_exits_cleanly_and_usage_errors_fail() {
    let (out, code) = run(&["debug", "node", "decode"], "");
    assert!(out.is_empty());
    assert_eq!(code, 0);
    let (_, code) = run(&["debug", "node", "frobnicate"], "");
    assert_ne!(code, 0);
}

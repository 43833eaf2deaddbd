//! Reading `<stream:error>` and `<failure>` stanzas into typed close reasons.

use super::{Failure, FailureReason, StreamError};
use crate::binary::Node;

/// Why a node could not be read as a stream error or failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("expected a <{expected}> node, got <{got}>")]
    WrongTag { expected: &'static str, got: String },
    #[error("<failure> has no numeric reason attribute")]
    MissingReason,
}

/// Reads a `<stream:error>` node.
pub fn stream_error(node: &Node) -> Result<StreamError, ParseError> {
    if node.tag != "stream:error" {
        return Err(ParseError::WrongTag {
            expected: "stream:error",
            got: node.tag.to_string(),
        });
    }
    let code = node.attr_str("code").and_then(|c| c.parse::<u16>().ok());
    if let Some(conflict) = node.child("conflict") {
        return Ok(match conflict.attr_str("type") {
            Some("device_removed") => StreamError::DeviceRemoved {
                code: code.unwrap_or(401),
            },
            Some("replaced") => StreamError::Replaced { code },
            other => StreamError::Other {
                code,
                text: format!("conflict {}", other.unwrap_or("without a type")),
            },
        });
    }
    if node.child("xml-not-well-formed").is_some() {
        return Ok(StreamError::XmlNotWellFormed);
    }
    if let Some(ack) = node.child("ack") {
        return Ok(StreamError::AckOwed {
            id: ack.attr_str("id").map(str::to_owned),
            class: ack.attr_str("class").map(str::to_owned),
        });
    }
    Ok(match code {
        Some(515) => StreamError::RestartRequired,
        Some(516) => StreamError::DeviceRemoved { code: 516 },
        Some(409) => StreamError::Replaced { code: Some(409) },
        Some(503) => StreamError::ServiceUnavailable,
        Some(429) => StreamError::RateLimited,
        _ => StreamError::Other {
            code,
            text: describe(node, code),
        },
    })
}

/// Reads a `<failure>` node.
pub fn failure(node: &Node) -> Result<Failure, ParseError> {
    if node.tag != "failure" {
        return Err(ParseError::WrongTag {
            expected: "failure",
            got: node.tag.to_string(),
        });
    }
    let reason = node
        .attr_str("reason")
        .and_then(|r| r.parse::<u16>().ok())
        .ok_or(ParseError::MissingReason)?;
    Ok(Failure {
        reason: FailureReason::from_code(reason),
        ban_code: node.attr_str("code").and_then(|c| c.parse().ok()),
        expire_secs: node.attr_str("expire").and_then(|e| e.parse().ok()),
        location: node.attr_str("location").map(str::to_owned),
        message: node.attr_str("message").map(str::to_owned),
    })
}

fn describe(node: &Node, code: Option<u16>) -> String {
    let child = node.children().first().map(|c| c.tag.to_string());
    match (code, child) {
        (Some(c), Some(t)) => format!("code {c}, <{t}>"),
        (Some(c), None) => format!("code {c}"),
        (None, Some(t)) => format!("<{t}>"),
        (None, None) => "no details".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(tag: &'static str, attrs: &[(&'static str, &'static str)]) -> Node {
        attrs
            .iter()
            .fold(Node::new(tag), |n, (k, v)| n.with_attr(*k, *v))
    }

    #[test]
    fn stream_errors_by_code_and_child() {
        let cases: Vec<(Node, StreamError)> = vec![
            (
                node("stream:error", &[("code", "515")]),
                StreamError::RestartRequired,
            ),
            (
                node("stream:error", &[("code", "401")])
                    .with_children(vec![node("conflict", &[("type", "device_removed")])]),
                StreamError::DeviceRemoved { code: 401 },
            ),
            (
                node("stream:error", &[])
                    .with_children(vec![node("conflict", &[("type", "replaced")])]),
                StreamError::Replaced { code: None },
            ),
            (
                node("stream:error", &[("code", "516")]),
                StreamError::DeviceRemoved { code: 516 },
            ),
            (
                node("stream:error", &[("code", "409")]),
                StreamError::Replaced { code: Some(409) },
            ),
            (
                node("stream:error", &[("code", "503")]),
                StreamError::ServiceUnavailable,
            ),
            (
                node("stream:error", &[("code", "429")]),
                StreamError::RateLimited,
            ),
            (
                node("stream:error", &[]).with_children(vec![node("xml-not-well-formed", &[])]),
                StreamError::XmlNotWellFormed,
            ),
            (
                node("stream:error", &[])
                    .with_children(vec![node("ack", &[("id", "ABC"), ("class", "receipt")])]),
                StreamError::AckOwed {
                    id: Some("ABC".into()),
                    class: Some("receipt".into()),
                },
            ),
            (
                node("stream:error", &[("code", "999")]),
                StreamError::Other {
                    code: Some(999),
                    text: "code 999".into(),
                },
            ),
        ];
        for (n, want) in cases {
            assert_eq!(stream_error(&n).unwrap(), want, "{n}");
        }
    }

    #[test]
    fn failures_keep_their_attributes() {
        let f = failure(&node(
            "failure",
            &[
                ("reason", "402"),
                ("code", "104"),
                ("expire", "7200"),
                ("location", "frc"),
            ],
        ))
        .unwrap();
        assert_eq!(f.reason, FailureReason::TempBanned);
        assert_eq!(f.ban_code, Some(104));
        assert_eq!(f.expire_secs, Some(7200));
        assert_eq!(f.location.as_deref(), Some("frc"));
        assert_eq!(
            failure(&node("failure", &[])),
            Err(ParseError::MissingReason)
        );
        assert_eq!(
            failure(&node("failure", &[("reason", "x")])),
            Err(ParseError::MissingReason)
        );
        assert!(matches!(
            failure(&node("success", &[])),
            Err(ParseError::WrongTag { .. })
        ));
    }
}

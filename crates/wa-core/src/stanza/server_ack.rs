//! The server's `<ack class="message">` for a message we sent (messaging.md §4.4): accepted
//! with its time, or refused with a code; a `phash` on it says our device list is stale.

use super::{attr_text, expect_tag, StanzaError};
use crate::binary::Node;

/// The server's answer to one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAck {
    /// The message id it answers.
    pub id: String,
    /// The server's time, unix seconds.
    pub t: Option<u64>,
    /// The refusal code, when refused.
    pub error: Option<u16>,
    /// The server's participant hash, when ours differs.
    pub phash: Option<String>,
    /// `refresh_lid="true"`: the recipient's LID must be asked again.
    pub refresh_lid: bool,
}

impl MessageAck {
    /// Reads the ack.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "ack")?;
        let id = attr_text(node, "ack", "id")?;
        let number = |attr: &'static str| -> Result<Option<u64>, StanzaError> {
            match node.attr(attr) {
                None => Ok(None),
                Some(v) => v
                    .to_string()
                    .parse()
                    .map(Some)
                    .map_err(|_| StanzaError::BadAttr {
                        tag: "ack",
                        attr,
                        value: v.to_string(),
                        expected: "a number",
                    }),
            }
        };
        let t = number("t")?;
        let error = number("error")?
            .map(|e| {
                u16::try_from(e).map_err(|_| StanzaError::BadAttr {
                    tag: "ack",
                    attr: "error",
                    value: e.to_string(),
                    expected: "an error code",
                })
            })
            .transpose()?;
        Ok(Self {
            id,
            t,
            error,
            phash: node.attr("phash").map(ToString::to_string),
            refresh_lid: node.attr_str("refresh_lid") == Some("true"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_read_their_time_error_and_phash() {
        let ok = Node::new("ack")
            .with_attr("class", "message")
            .with_attr("id", "3EB0AA")
            .with_attr("t", "1764000000");
        assert_eq!(
            MessageAck::parse(&ok).unwrap(),
            MessageAck {
                id: "3EB0AA".into(),
                t: Some(1_764_000_000),
                error: None,
                phash: None,
                refresh_lid: false,
            }
        );
        let refused = ok
            .clone()
            .with_attr("error", "463")
            .with_attr("phash", "2:abcdefgh")
            .with_attr("refresh_lid", "true");
        let got = MessageAck::parse(&refused).unwrap();
        assert_eq!(got.error, Some(463));
        assert_eq!(got.phash.as_deref(), Some("2:abcdefgh"));
        assert!(got.refresh_lid);
        assert!(MessageAck::parse(&ok.clone().with_attr("error", "x")).is_err());
        assert!(MessageAck::parse(&ok.with_attr("error", "70000")).is_err());
        assert!(MessageAck::parse(&Node::new("ack")).is_err());
    }
}

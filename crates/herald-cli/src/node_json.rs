//! The JSON form of a node used by `debug node`, close to Baileys' `BinaryNode`:
//!
//! ```json
//! {"tag": "iq", "attrs": {"id": "1", "to": "@s.whatsapp.net"}, "content": [ ... ]}
//! ```
//!
//! * `attrs` keeps its order in both directions (it is read and written as a list of pairs, not
//!   through a map), and may be omitted on input.
//! * `content` is absent (no content), an array of nodes, `{"b64": "..."}` for bytes, or a
//!   string, which means its UTF-8 bytes. Output always uses `{"b64"}` for bytes.
//! * JIDs are written as text (`user:device@server`, see `wa_core::binary::Jid`). On input, a
//!   value containing `@` that parses as a JID becomes a JID, as Baileys does when it encodes
//!   (Baileys sends every string with `@` as a JID); anything else stays a string. So decode →
//!   encode keeps the bytes of every JID, and of every string without `@`; a plain string with
//!   `@` on the wire (no known stanza has one) would come back as a JID, as Baileys would send it.
//!   A raw agent prints as `user.agent:device@s.whatsapp.net`, which Baileys does not keep.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use wa_core::binary::{Attr, AttrValue, Content, Node};

/// Why a JSON line is not a node.
#[derive(Debug, thiserror::Error)]
pub enum JsonNodeError {
    /// Not JSON, or not the shape above.
    #[error("invalid node JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `{"b64": ...}` that is not base64.
    #[error("invalid base64 content: {0}")]
    Base64(#[from] base64::DecodeError),
}

/// Writes a node as one line of JSON.
pub fn to_json(node: &Node) -> String {
    // Serializing these types cannot fail: every key is a string and nothing is a float.
    serde_json::to_string(&NodeOut(node)).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Reads a node from JSON.
pub fn from_json(text: &str) -> Result<Node, JsonNodeError> {
    let parsed: NodeIn = serde_json::from_str(text)?;
    parsed.into_node()
}

struct NodeOut<'a>(&'a Node);
struct AttrsOut<'a>(&'a [Attr]);

impl Serialize for NodeOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let node = self.0;
        let has_content = !matches!(node.content, Content::None);
        let mut map = s.serialize_map(Some(2 + usize::from(has_content)))?;
        map.serialize_entry("tag", node.tag.as_ref())?;
        map.serialize_entry("attrs", &AttrsOut(&node.attrs))?;
        match &node.content {
            Content::None => {}
            Content::Bytes(b) => {
                map.serialize_entry("content", &serde_json::json!({ "b64": BASE64.encode(b) }))?
            }
            Content::Nodes(children) => {
                let children: Vec<NodeOut<'_>> = children.iter().map(NodeOut).collect();
                map.serialize_entry("content", &children)?;
            }
        }
        map.end()
    }
}

impl Serialize for AttrsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for a in self.0 {
            map.serialize_entry(a.key.as_ref(), &a.value.to_string())?;
        }
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeIn {
    tag: String,
    #[serde(default)]
    attrs: AttrsIn,
    #[serde(default)]
    content: Option<ContentIn>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ContentIn {
    Text(String),
    Bytes { b64: String },
    Nodes(Vec<NodeIn>),
}

/// Attributes in document order.
#[derive(Default)]
struct AttrsIn(Vec<(String, String)>);

impl<'de> Deserialize<'de> for AttrsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AttrsIn, D::Error> {
        struct OrderedPairs;
        impl<'de> Visitor<'de> for OrderedPairs {
            type Value = AttrsIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AttrsIn, A::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = m.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(AttrsIn(pairs))
            }
        }
        d.deserialize_map(OrderedPairs).map_err(de::Error::custom)
    }
}

impl NodeIn {
    fn into_node(self) -> Result<Node, JsonNodeError> {
        let attrs = self
            .attrs
            .0
            .into_iter()
            .map(|(key, value)| Attr {
                key: key.into(),
                value: AttrValue::from_text(&value),
            })
            .collect();
        let content = match self.content {
            None => Content::None,
            Some(ContentIn::Text(t)) => Content::Bytes(t.into_bytes().into()),
            Some(ContentIn::Bytes { b64 }) => Content::Bytes(BASE64.decode(b64)?.into()),
            Some(ContentIn::Nodes(children)) => Content::Nodes(
                children
                    .into_iter()
                    .map(NodeIn::into_node)
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Node {
            tag: self.tag.into(),
            attrs,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_core::binary::{Jid, Server};

    #[test]
    fn keeps_attribute_order_both_ways() {
        let text = r#"{"tag":"iq","attrs":{"z":"1","a":"2","m":"@s.whatsapp.net"},"content":[{"tag":"ping","attrs":{}}]}"#;
        let node = from_json(text).unwrap();
        let keys: Vec<&str> = node.attrs.iter().map(|a| a.key.as_ref()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(node.attr_jid("m"), Some(&Jid::server_jid(Server::Pn)));
        assert_eq!(to_json(&node), text);
    }

    #[test]
    fn content_forms() {
        let n = from_json(r#"{"tag":"a","content":{"b64":"3q0="}}"#).unwrap();
        assert_eq!(n.bytes(), Some(&[0xde, 0xad][..]));
        assert_eq!(
            to_json(&n),
            r#"{"tag":"a","attrs":{},"content":{"b64":"3q0="}}"#
        );
        let n = from_json(r#"{"tag":"a","content":"hi"}"#).unwrap();
        assert_eq!(n.bytes(), Some(&b"hi"[..]));
        let n = from_json(r#"{"tag":"a","content":[]}"#).unwrap();
        assert_eq!(n.content, Content::Nodes(vec![]));
        assert!(from_json(r#"{"tag":"a","content":{"b64":"!"}}"#).is_err());
        assert!(from_json(r#"{"tag":"a","attrs":{"k":1}}"#).is_err());
        assert!(from_json(r#"{"tag":"a","extra":1}"#).is_err());
        assert!(from_json("[]").is_err());
    }
}

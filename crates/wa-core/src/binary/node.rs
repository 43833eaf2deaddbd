//! The node tree: what every stanza is before encoding and after decoding.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use super::jid::Jid;

/// A string that is usually a `'static` token (tags, keys, common values), so building and
/// decoding nodes does not allocate for it.
pub type NodeStr = Cow<'static, str>;

/// One element of the tree, e.g. `<iq id="1" type="get" xmlns="w:p"><ping/></iq>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The element name; never empty on the wire.
    pub tag: NodeStr,
    /// Attributes in the order they were added or received. A `Vec`, not a map: the order is
    /// part of the bytes, and nodes have few attributes.
    pub attrs: Vec<Attr>,
    /// What is between the start and end tag.
    pub content: Content,
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Attribute name.
    pub key: NodeStr,
    /// Attribute value.
    pub value: AttrValue,
}

/// An attribute value: a string, or a JID that is encoded in one of the JID forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A plain string, even if it looks like a JID (whatsmeow's rule).
    String(NodeStr),
    /// A typed JID.
    Jid(Jid),
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Content {
    /// No content (`<tag/>`).
    #[default]
    None,
    /// Raw bytes. A string in content position on the wire (a token, a packed number) also
    /// decodes to bytes — its UTF-8 — so callers have one type to handle. `Bytes` so that
    /// [`decode_shared`](super::decode_shared) can hand out slices of the frame without copying.
    Bytes(Bytes),
    /// Child nodes (possibly none, which is distinct from no content on the wire).
    Nodes(Vec<Node>),
}

impl AttrValue {
    /// Interprets text the way Baileys does when it encodes an attribute: a string containing
    /// `@` is a JID if it parses as one; anything else stays a string.
    pub fn from_text(text: &str) -> AttrValue {
        if text.contains('@') {
            if let Ok(jid) = text.parse::<Jid>() {
                return AttrValue::Jid(jid);
            }
        }
        AttrValue::String(Cow::Owned(text.to_owned()))
    }

    /// The string, or `None` for a JID.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            AttrValue::Jid(_) => None,
        }
    }

    /// The JID, or `None` for a string.
    pub fn as_jid(&self) -> Option<&Jid> {
        match self {
            AttrValue::Jid(j) => Some(j),
            AttrValue::String(_) => None,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::String(s) => f.write_str(s),
            AttrValue::Jid(j) => j.fmt(f),
        }
    }
}

impl From<&'static str> for AttrValue {
    fn from(s: &'static str) -> AttrValue {
        AttrValue::String(Cow::Borrowed(s))
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> AttrValue {
        AttrValue::String(Cow::Owned(s))
    }
}

impl From<Jid> for AttrValue {
    fn from(j: Jid) -> AttrValue {
        AttrValue::Jid(j)
    }
}

impl Node {
    /// A node with no attributes and no content.
    pub fn new(tag: impl Into<NodeStr>) -> Node {
        Node {
            tag: tag.into(),
            attrs: Vec::new(),
            content: Content::None,
        }
    }

    /// Appends an attribute (builder style).
    pub fn with_attr(mut self, key: impl Into<NodeStr>, value: impl Into<AttrValue>) -> Node {
        self.attrs.push(Attr {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Sets child nodes as the content (builder style).
    pub fn with_children(mut self, children: Vec<Node>) -> Node {
        self.content = Content::Nodes(children);
        self
    }

    /// Sets raw bytes as the content (builder style).
    pub fn with_bytes(mut self, bytes: impl Into<Bytes>) -> Node {
        self.content = Content::Bytes(bytes.into());
        self
    }

    /// The value of the first attribute named `key`.
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|a| a.key == key).map(|a| &a.value)
    }

    /// The first attribute named `key` if it is a plain string.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        self.attr(key).and_then(AttrValue::as_str)
    }

    /// The first attribute named `key` if it is a JID.
    pub fn attr_jid(&self, key: &str) -> Option<&Jid> {
        self.attr(key).and_then(AttrValue::as_jid)
    }

    /// The child nodes; empty when the content is bytes or absent.
    pub fn children(&self) -> &[Node] {
        match &self.content {
            Content::Nodes(children) => children,
            _ => &[],
        }
    }

    /// The first child with this tag.
    pub fn child(&self, tag: &str) -> Option<&Node> {
        self.children().iter().find(|c| c.tag == tag)
    }

    /// All children with this tag, in order.
    pub fn children_by_tag<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children().iter().filter(move |c| c.tag == tag)
    }

    /// The content bytes, or `None` when the content is absent or child nodes.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.content {
            Content::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Content bytes longer than this are cut in `Display`, which is meant for logs.
const DISPLAY_BYTES_MAX: usize = 64;

impl fmt::Display for Node {
    /// XML-ish, one line: `<iq id="1" to=@s.whatsapp.net><ping/></iq>`. JID values are unquoted
    /// so they stand out from strings; bytes are shown as text when they are printable UTF-8 and
    /// as hex otherwise, cut after 64 bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}", self.tag)?;
        for a in &self.attrs {
            match &a.value {
                AttrValue::String(s) => write!(f, " {}={:?}", a.key, s)?,
                AttrValue::Jid(j) => write!(f, " {}={}", a.key, j)?,
            }
        }
        match &self.content {
            Content::None => f.write_str("/>"),
            Content::Nodes(children) => {
                f.write_str(">")?;
                for c in children {
                    c.fmt(f)?;
                }
                write!(f, "</{}>", self.tag)
            }
            Content::Bytes(b) => {
                f.write_str(">")?;
                let shown = &b[..b.len().min(DISPLAY_BYTES_MAX)];
                match std::str::from_utf8(shown) {
                    Ok(s) if !s.chars().any(char::is_control) => f.write_str(s)?,
                    _ => {
                        for byte in shown {
                            write!(f, "{byte:02x}")?;
                        }
                    }
                }
                if b.len() > DISPLAY_BYTES_MAX {
                    write!(f, "…({} bytes)", b.len())?;
                }
                write!(f, "</{}>", self.tag)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::jid::Server;
    use super::*;

    fn sample() -> Node {
        Node::new("iq")
            .with_attr("id", "1.2-3")
            .with_attr("to", Jid::server_jid(Server::Pn))
            .with_children(vec![
                Node::new("ping"),
                Node::new("item").with_attr("n", "1"),
                Node::new("item")
                    .with_attr("n", "2")
                    .with_bytes(vec![0xff, 0x00]),
            ])
    }

    #[test]
    fn accessors_find_attributes_and_children() {
        let n = sample();
        assert_eq!(n.attr_str("id"), Some("1.2-3"));
        assert_eq!(n.attr_str("to"), None);
        assert_eq!(n.attr_jid("to"), Some(&Jid::server_jid(Server::Pn)));
        assert!(n.attr("missing").is_none());
        assert!(n.child("ping").is_some());
        assert!(n.child("pong").is_none());
        let items: Vec<_> = n.children_by_tag("item").collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].bytes(), Some(&[0xff, 0x00][..]));
        assert!(n.bytes().is_none());
        assert!(items[0].children().is_empty());
    }

    #[test]
    fn display_is_compact_xml() {
        assert_eq!(
            sample().to_string(),
            "<iq id=\"1.2-3\" to=@s.whatsapp.net><ping/><item n=\"1\"/><item n=\"2\">ff00</item></iq>"
        );
        let text = Node::new("body").with_bytes(b"hi".to_vec());
        assert_eq!(text.to_string(), "<body>hi</body>");
        let long = Node::new("enc").with_bytes(vec![1u8; 100]);
        assert!(long.to_string().ends_with("…(100 bytes)</enc>"));
    }

    #[test]
    fn from_text_applies_the_at_rule() {
        assert_eq!(
            AttrValue::from_text("1@s.whatsapp.net"),
            AttrValue::Jid(Jid::new("1", Server::Pn))
        );
        assert_eq!(AttrValue::from_text("plain"), AttrValue::from("plain"));
        // Contains '@' but is not a JID: stays a string.
        assert_eq!(AttrValue::from_text("a@"), AttrValue::from("a@"));
        assert_eq!(AttrValue::from_text("1:x@lid"), AttrValue::from("1:x@lid"));
    }
}

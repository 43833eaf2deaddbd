//! Typed builders and parsers of the stanzas this crate's users exchange, on top of
//! [`crate::binary::Node`]. A parser checks the shape it relies on and says exactly what is
//! missing, so a malformed stanza from the server is a clear error rather than a wrong value.

pub mod ack;
pub mod bundle;
pub mod group;
pub mod iq;
pub mod link_code;
pub mod message;
pub mod notification;
pub mod pair;
pub mod receipt;
pub mod server_ack;
pub mod usync;

use crate::binary::{Jid, Node, Server};

/// What is wrong with a stanza's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StanzaError {
    /// The node is not the expected element.
    #[error("expected <{expected}>, got <{got}>")]
    WrongTag {
        /// The tag the parser handles.
        expected: &'static str,
        /// The tag found.
        got: String,
    },
    /// A required attribute is absent.
    #[error("<{tag}> has no {attr} attribute")]
    MissingAttr {
        /// The element.
        tag: &'static str,
        /// The attribute.
        attr: &'static str,
    },
    /// An attribute has a value the parser cannot use.
    #[error("<{tag}> attribute {attr}={value:?} is not {expected}")]
    BadAttr {
        /// The element.
        tag: &'static str,
        /// The attribute.
        attr: &'static str,
        /// The value found, as text.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
    /// A required child element is absent.
    #[error("<{parent}> has no <{child}> child")]
    MissingChild {
        /// The parent element.
        parent: &'static str,
        /// The missing child.
        child: &'static str,
    },
    /// An element that must carry bytes carries children or nothing.
    #[error("<{tag}> does not contain bytes")]
    NotBytes {
        /// The element.
        tag: &'static str,
    },
    /// An element that must carry text carries bytes that are not UTF-8.
    #[error("<{tag}> does not contain UTF-8 text")]
    NotText {
        /// The element.
        tag: &'static str,
    },
    /// An element's bytes have the wrong length.
    #[error("<{tag}> contains {got} bytes, expected {expected}")]
    ContentLength {
        /// The element.
        tag: &'static str,
        /// The length the protocol fixes.
        expected: usize,
        /// The length found.
        got: usize,
    },
}

/// `@s.whatsapp.net`, the address of the server itself.
pub fn server_jid() -> Jid {
    Jid::server_jid(Server::Pn)
}

/// Checks the tag of `node`.
pub(crate) fn expect_tag(node: &Node, tag: &'static str) -> Result<(), StanzaError> {
    if node.tag == tag {
        Ok(())
    } else {
        Err(StanzaError::WrongTag {
            expected: tag,
            got: node.tag.to_string(),
        })
    }
}

/// A string attribute (a JID value is rendered as text: some servers send ids that look like
/// JIDs).
pub(crate) fn attr_text(
    node: &Node,
    tag: &'static str,
    attr: &'static str,
) -> Result<String, StanzaError> {
    node.attr(attr)
        .map(ToString::to_string)
        .ok_or(StanzaError::MissingAttr { tag, attr })
}

/// A JID attribute, whether it arrived in a JID form or as a string.
pub(crate) fn attr_jid(
    node: &Node,
    tag: &'static str,
    attr: &'static str,
) -> Result<Jid, StanzaError> {
    match node.attr(attr) {
        None => Err(StanzaError::MissingAttr { tag, attr }),
        Some(value) => match value.as_jid() {
            Some(jid) => Ok(jid.clone()),
            None => {
                let text = value.to_string();
                text.parse().map_err(|_| StanzaError::BadAttr {
                    tag,
                    attr,
                    value: text,
                    expected: "a JID",
                })
            }
        },
    }
}

/// The first child with `child` as tag.
pub(crate) fn child<'a>(
    node: &'a Node,
    parent: &'static str,
    child: &'static str,
) -> Result<&'a Node, StanzaError> {
    node.child(child)
        .ok_or(StanzaError::MissingChild { parent, child })
}

/// The bytes of the child `tag` of `node`.
pub(crate) fn child_bytes<'a>(
    node: &'a Node,
    parent: &'static str,
    tag: &'static str,
) -> Result<&'a [u8], StanzaError> {
    child(node, parent, tag)?
        .bytes()
        .ok_or(StanzaError::NotBytes { tag })
}

/// The bytes of the child `tag`, which must be exactly `N` long.
pub(crate) fn child_array<const N: usize>(
    node: &Node,
    parent: &'static str,
    tag: &'static str,
) -> Result<[u8; N], StanzaError> {
    let bytes = child_bytes(node, parent, tag)?;
    bytes.try_into().map_err(|_| StanzaError::ContentLength {
        tag,
        expected: N,
        got: bytes.len(),
    })
}

/// The bytes of the child `tag` as UTF-8 text.
pub(crate) fn child_text(
    node: &Node,
    parent: &'static str,
    tag: &'static str,
) -> Result<String, StanzaError> {
    let bytes = child_bytes(node, parent, tag)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| StanzaError::NotText { tag })
}

/// `<iq to="@s.whatsapp.net" type=… id=…>` with the given children, as a client sends it.
pub(crate) fn iq_to_server(iq_type: &'static str, id: &str, children: Vec<Node>) -> Node {
    let iq = Node::new("iq")
        .with_attr("to", server_jid())
        .with_attr("type", iq_type)
        .with_attr("id", id.to_owned());
    if children.is_empty() {
        iq
    } else {
        iq.with_children(children)
    }
}

/// An `<iq>` id and type, checked to be an `<iq>`.
pub(crate) fn iq_header(node: &Node) -> Result<(String, String), StanzaError> {
    expect_tag(node, "iq")?;
    Ok((attr_text(node, "iq", "id")?, attr_text(node, "iq", "type")?))
}

/// `<iq to="@s.whatsapp.net" type="get" xmlns=…>` without an id: the engine gives each
/// request its own.
pub(crate) fn get_iq(xmlns: &'static str, children: Vec<Node>) -> Node {
    Node::new("iq")
        .with_attr("to", server_jid())
        .with_attr("type", "get")
        .with_attr("xmlns", xmlns)
        .with_children(children)
}

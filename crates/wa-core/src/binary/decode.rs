//! Bytes → owned node, for one node body (no flags byte; see `frame.rs` for that). The grammar
//! is in `reader.rs`, shared with the borrowed view.
//!
//! Input comes from the network, so: every length is checked against what is left of the input
//! before anything is allocated for it, nesting and sizes have hard limits, nothing panics, and
//! each error names what was wrong and the offset (from the start of the body) where it was.

use bytes::Bytes;

use super::node::{Attr, Content, Node};
use super::reader::{ContentStart, Reader};

/// Default nesting limit; real stanzas nest fewer than ten levels.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// Default size limit of a node body, compressed or not: a frame cannot be larger (§1).
pub const DEFAULT_MAX_SIZE: usize = 16 * 1024 * 1024;

/// Hard limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Deepest nesting of nodes accepted; the top node is depth 1.
    pub max_depth: usize,
    /// Largest body accepted, and largest size a compressed body may inflate to.
    pub max_size: usize,
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}

/// Why a frame or node could not be decoded. `offset` counts from the start of the node body
/// (after the flags byte and after inflating).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The frame plaintext is empty: not even a flags byte.
    #[error("empty frame: no flags byte")]
    EmptyFrame,
    /// The input is larger than the size limit.
    #[error("input of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Input size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The zlib stream of a compressed frame is corrupt.
    #[error("cannot inflate compressed frame")]
    Inflate(#[source] std::io::Error),
    /// The compressed frame inflates to more than the size limit.
    #[error("compressed frame inflates to more than {max} bytes")]
    InflatedTooLarge {
        /// The limit.
        max: usize,
    },
    /// A length or item needs more bytes than are left.
    #[error("need {needed} bytes at offset {offset}, only {remaining} left")]
    UnexpectedEnd {
        /// Where the read started.
        offset: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// A tag byte that is not allowed where it appears.
    #[error("unexpected tag 0x{tag:02x} at offset {offset}: expected {expected}")]
    UnexpectedTag {
        /// Offset of the tag byte.
        offset: usize,
        /// The tag byte.
        tag: u8,
        /// What was expected there.
        expected: &'static str,
    },
    /// A token index outside the dictionaries.
    #[error("invalid token at offset {offset}")]
    InvalidToken {
        /// Offset of the token.
        offset: usize,
    },
    /// A packed string with an invalid code or an odd flag without characters.
    #[error("invalid packed string at offset {offset}")]
    InvalidPacked {
        /// Offset of the packed string's tag.
        offset: usize,
    },
    /// A raw string (tag, key or attribute value) that is not UTF-8.
    #[error("string at offset {offset} is not UTF-8")]
    InvalidUtf8 {
        /// Offset of the string's bytes.
        offset: usize,
        /// The UTF-8 error.
        #[source]
        source: std::str::Utf8Error,
    },
    /// A list header of size 0 where a node should start.
    #[error("node at offset {offset} has an empty list header")]
    EmptyNode {
        /// Offset of the node.
        offset: usize,
    },
    /// A node whose tag is the empty string.
    #[error("node at offset {offset} has an empty tag")]
    EmptyTag {
        /// Offset of the tag.
        offset: usize,
    },
    /// Nodes nested deeper than the limit.
    #[error("nesting deeper than {max} at offset {offset}")]
    TooDeep {
        /// Offset of the node that went too deep.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// A JID whose parts are not what its form requires.
    #[error("invalid JID at offset {offset}: {reason}")]
    InvalidJid {
        /// Offset of the JID's tag.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Bytes left after the node ended.
    #[error("{remaining} bytes left over after the node at offset {offset}")]
    TrailingBytes {
        /// Where the node ended.
        offset: usize,
        /// How many bytes follow.
        remaining: usize,
    },
}

/// Decodes one node body (the bytes after the flags byte, already inflated). Content bytes are
/// copied out of `body`.
pub fn decode_body(body: &[u8], limits: &DecodeLimits) -> Result<Node, DecodeError> {
    decode_body_from(body, None, limits)
}

/// Like [`decode_body`], but content bytes are slices of `body` (no copy); they keep the whole
/// buffer alive.
pub fn decode_body_shared(body: &Bytes, limits: &DecodeLimits) -> Result<Node, DecodeError> {
    decode_body_from(body, Some(body), limits)
}

fn decode_body_from(
    body: &[u8],
    owner: Option<&Bytes>,
    limits: &DecodeLimits,
) -> Result<Node, DecodeError> {
    check_size(body, limits)?;
    let mut r = Reader::new(body, 0, limits.max_depth);
    let node = node(&mut r, owner, 1)?;
    check_end(&r)?;
    Ok(node)
}

/// Refuses a body larger than the limit before reading any of it.
pub(super) fn check_size(body: &[u8], limits: &DecodeLimits) -> Result<(), DecodeError> {
    if body.len() > limits.max_size {
        return Err(DecodeError::TooLarge {
            len: body.len(),
            max: limits.max_size,
        });
    }
    Ok(())
}

/// Refuses bytes after the top node.
pub(super) fn check_end(r: &Reader<'_>) -> Result<(), DecodeError> {
    let len = r.data().len();
    if r.pos() != len {
        return Err(DecodeError::TrailingBytes {
            offset: r.pos(),
            remaining: len - r.pos(),
        });
    }
    Ok(())
}

/// One owned node; content bytes are slices of `owner` when given, copies otherwise.
fn node(r: &mut Reader<'_>, owner: Option<&Bytes>, depth: usize) -> Result<Node, DecodeError> {
    let header = r.header(depth)?;
    let mut attrs = Vec::with_capacity(header.attr_count);
    for _ in 0..header.attr_count {
        let (key, value) = r.attr()?;
        attrs.push(Attr {
            key: key.to_node_str(),
            value: value.to_attr_value(),
        });
    }
    let content = if header.has_content {
        match r.content()? {
            ContentStart::Children(count) => {
                // The smallest node is three bytes (`F8 01 tag`); never reserve more than fits.
                let room = (r.data().len() - r.pos()) / 3;
                let mut children = Vec::with_capacity(count.min(room));
                for _ in 0..count {
                    children.push(node(r, owner, depth + 1)?);
                }
                Content::Nodes(children)
            }
            ContentStart::Value(v) => Content::Bytes(v.to_bytes(owner)),
        }
    } else {
        Content::None
    };
    Ok(Node {
        tag: header.tag.to_node_str(),
        attrs,
        content,
    })
}

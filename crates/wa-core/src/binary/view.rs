//! A borrowed view over a decoded frame: [`NodeRef`] reads tag, attributes and content straight
//! from the frame's bytes, so routing a stanza (an IQ answer to its waiter, a receipt to its
//! ack) allocates nothing. [`NodeRef::to_node`] makes the owned tree when a caller keeps it.
//!
//! The whole body is checked once, up front, by the same grammar as the owned decoder: a view
//! exists only for a body [`decode`](super::decode) accepts, so the accessors re-read bytes
//! already known to be well formed and need not report errors. Children are found by reading
//! past their older siblings; nodes have few children, and large contents are skipped by their
//! length, not scanned.

use std::fmt;

use bytes::Bytes;

use super::check::{is_well_formed, skip_value};
use super::decode::{check_end, check_size, DecodeError, DecodeLimits};
use super::frame::{inflate_into, split_flags, FLAG_COMPRESSED};
use super::node::{Attr, Content, Node};
use super::reader::{ContentStart, Reader};
use super::refs::{AttrRef, JidRef, StrRef, ValueRef};
use super::tags::LIST_8;
use super::token;

/// Checks a frame plaintext (`flags || body`) and returns a view of its node, with the default
/// limits. A compressed body is inflated into `inflated` (cleared first), which the view then
/// borrows; an uncompressed one is read where it is.
pub fn view<'a>(frame: &'a [u8], inflated: &'a mut Vec<u8>) -> Result<NodeRef<'a>, DecodeError> {
    view_with_limits(frame, inflated, &DecodeLimits::default())
}

/// [`view`] with explicit limits.
pub fn view_with_limits<'a>(
    frame: &'a [u8],
    inflated: &'a mut Vec<u8>,
    limits: &DecodeLimits,
) -> Result<NodeRef<'a>, DecodeError> {
    let (flags, body) = split_flags(frame, limits)?;
    if flags & FLAG_COMPRESSED == 0 {
        return view_body(body, limits);
    }
    inflate_into(body, limits.max_size, inflated)?;
    let inflated: &'a Vec<u8> = inflated;
    view_body(inflated, limits)
}

/// Checks one node body (no flags byte, already inflated) and returns a view of its node.
pub fn view_body<'a>(body: &'a [u8], limits: &DecodeLimits) -> Result<NodeRef<'a>, DecodeError> {
    check_size(body, limits)?;
    if !is_well_formed(body, limits.max_depth) {
        // Only now read it the slow way, to name the error exactly as the decoder does.
        let mut r = Reader::new(body, 0, limits.max_depth);
        r.skip_node(1)?;
        check_end(&r)?;
    }
    NodeRef::at(body, 0).ok_or(DecodeError::EmptyNode { offset: 0 })
}

/// One node of a checked body.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    body: &'a [u8],
    tag: StrRef<'a>,
    /// Offset of the first attribute key.
    attrs_at: usize,
    attr_count: usize,
    has_content: bool,
}

/// Re-reads of a checked body are not depth-limited again.
const NO_DEPTH_LIMIT: usize = usize::MAX;

impl<'a> NodeRef<'a> {
    /// The node starting at `pos` of a checked body. `None` cannot happen for a body the
    /// checker accepted; it stands in for a panic the view must never risk.
    fn at(body: &'a [u8], pos: usize) -> Option<NodeRef<'a>> {
        // The usual shape, `LIST_8 n token`, without the general reader.
        if let Some(&[LIST_8, n, t]) = body.get(pos..pos + 3) {
            if let Some(tag) = token::single(t) {
                let n = usize::from(n);
                return Some(NodeRef {
                    body,
                    tag: StrRef::Token(tag),
                    attrs_at: pos + 3,
                    attr_count: n.saturating_sub(1) / 2,
                    has_content: n % 2 == 0,
                });
            }
        }
        let mut r = Reader::new(body, pos, NO_DEPTH_LIMIT);
        let header = r.header(0).ok()?;
        Some(NodeRef {
            body,
            tag: header.tag,
            attrs_at: r.pos(),
            attr_count: header.attr_count,
            has_content: header.has_content,
        })
    }

    /// The element name.
    pub fn tag(&self) -> StrRef<'a> {
        self.tag
    }

    /// The attributes, in wire order.
    pub fn attrs(&self) -> Attrs<'a> {
        Attrs {
            reader: Reader::new(self.body, self.attrs_at, NO_DEPTH_LIMIT),
            left: self.attr_count,
        }
    }

    /// The value of the first attribute named `key`. Only that value is read; the others are
    /// skipped by their lengths.
    pub fn attr(&self, key: &str) -> Option<AttrRef<'a>> {
        let mut pos = self.attrs_at;
        for _ in 0..self.attr_count {
            let value_at = skip_value(self.body, pos)?;
            let matches = match self.body.get(pos).and_then(|&t| token::single(t)) {
                // Keys are nearly always single-byte tokens: compare the token's text.
                Some(token) => token == key,
                None => Reader::new(self.body, pos, NO_DEPTH_LIMIT)
                    .key()
                    .is_ok_and(|k| k == key),
            };
            if matches {
                return Reader::new(self.body, value_at, NO_DEPTH_LIMIT)
                    .attr_value()
                    .ok();
            }
            pos = skip_value(self.body, value_at)?;
        }
        None
    }

    /// The first attribute named `key` if it is a string.
    pub fn attr_str(&self, key: &str) -> Option<StrRef<'a>> {
        match self.attr(key)? {
            AttrRef::Str(s) => Some(s),
            AttrRef::Jid(_) => None,
        }
    }

    /// The first attribute named `key` if it is a JID.
    pub fn attr_jid(&self, key: &str) -> Option<JidRef<'a>> {
        match self.attr(key)? {
            AttrRef::Jid(j) => Some(j),
            AttrRef::Str(_) => None,
        }
    }

    /// The content: nothing, one value, or children.
    pub fn content(&self) -> ContentRef<'a> {
        if !self.has_content {
            return ContentRef::None;
        }
        let mut r = Reader::new(self.body, self.attrs_at, NO_DEPTH_LIMIT);
        for _ in 0..self.attr_count {
            if r.attr().is_err() {
                return ContentRef::None;
            }
        }
        match r.content() {
            Ok(ContentStart::Children(left)) => ContentRef::Nodes(Children { reader: r, left }),
            Ok(ContentStart::Value(v)) => ContentRef::Value(v),
            Err(_) => ContentRef::None,
        }
    }

    /// The child nodes; none when the content is a value or absent.
    pub fn children(&self) -> Children<'a> {
        match self.content() {
            ContentRef::Nodes(children) => children,
            _ => Children {
                reader: Reader::new(self.body, self.body.len(), NO_DEPTH_LIMIT),
                left: 0,
            },
        }
    }

    /// The first child with this tag.
    pub fn child(&self, tag: &str) -> Option<NodeRef<'a>> {
        self.children().find(|c| c.tag == tag)
    }

    /// The content value, or `None` when the content is absent or child nodes.
    pub fn value(&self) -> Option<ValueRef<'a>> {
        match self.content() {
            ContentRef::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The owned tree, equal to what [`decode`](super::decode) gives for the same frame;
    /// content bytes are copied.
    pub fn to_node(self) -> Node {
        self.build_node(None)
    }

    /// The owned tree with content bytes sliced from `owner` instead of copied, when the view
    /// reads from inside `owner` (as [`decode_shared`](super::decode_shared) does); bytes
    /// outside it, such as those of an inflated body, are copied.
    pub fn to_node_shared(self, owner: &Bytes) -> Node {
        self.build_node(Some(owner))
    }

    fn build_node(self, owner: Option<&Bytes>) -> Node {
        let attrs = self
            .attrs()
            .map(|(key, value)| Attr {
                key: key.to_node_str(),
                value: value.to_attr_value(),
            })
            .collect();
        let content = match self.content() {
            ContentRef::None => Content::None,
            ContentRef::Value(v) => Content::Bytes(v.to_bytes(owner)),
            ContentRef::Nodes(children) => {
                Content::Nodes(children.map(|c| c.build_node(owner)).collect())
            }
        };
        Node {
            tag: self.tag.to_node_str(),
            attrs,
            content,
        }
    }
}

impl fmt::Display for NodeRef<'_> {
    /// As [`Node`]'s `Display`; meant for logs, so it may allocate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_node(), f)
    }
}

impl fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeRef({self})")
    }
}

/// The content of a [`NodeRef`].
#[derive(Clone, Debug)]
pub enum ContentRef<'a> {
    /// No content.
    None,
    /// One value: raw bytes, or a string or JID in content position.
    Value(ValueRef<'a>),
    /// Child nodes (possibly none).
    Nodes(Children<'a>),
}

/// The attributes of a [`NodeRef`], in wire order.
#[derive(Clone)]
pub struct Attrs<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (StrRef<'a>, AttrRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let attr = self.reader.attr().ok();
        if attr.is_none() {
            // Unreachable for a checked body; stop rather than read garbage.
            self.left = 0;
        }
        attr
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// The children of a [`NodeRef`], in order.
#[derive(Clone)]
pub struct Children<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl fmt::Debug for Children<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = NodeRef<'a>;

    fn next(&mut self) -> Option<NodeRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let child = NodeRef::at(self.reader.data(), self.reader.pos());
        if child.is_none() || self.reader.skip_node(0).is_err() {
            // Unreachable for a checked body; stop rather than read garbage.
            self.left = 0;
            return None;
        }
        child
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

//! Values borrowed from a node body: what the decoder reads before deciding whether anything
//! needs to be allocated. The owned tree ([`Node`](super::Node)) is built from these, and the
//! borrowed view ([`NodeRef`](super::NodeRef)) hands them out as they are.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use super::jid::{Jid, Server};
use super::node::{AttrValue, NodeStr};
use super::packed::Packing;

/// A string as the wire carries it: a dictionary token, UTF-8 text in the body, or a packed
/// number or hex string (two characters per byte). Comparing it with a `&str` never allocates.
#[derive(Clone, Copy)]
pub enum StrRef<'a> {
    /// A token from the dictionaries.
    Token(&'static str),
    /// Raw bytes of the body, checked to be UTF-8.
    Text(&'a str),
    /// A packed string, unpacked on demand.
    Packed(Packed<'a>),
}

/// A packed string as it lies in the body. Its codes were checked when it was read.
#[derive(Clone, Copy)]
pub struct Packed<'a> {
    pub(super) packing: Packing,
    /// The bytes after the length byte, two codes each.
    pub(super) pairs: &'a [u8],
    /// Whether the last code is padding.
    pub(super) odd: bool,
}

impl<'a> Packed<'a> {
    /// Number of characters.
    pub fn len(&self) -> usize {
        self.pairs.len() * 2 - usize::from(self.odd)
    }

    /// Whether there are no characters (never true for a packed string the decoder accepted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The characters, as ASCII bytes (code 15 inside a nibble string reads as NUL, like the
    /// reference implementations).
    pub fn chars(&self) -> impl Iterator<Item = u8> + 'a {
        let packing = self.packing;
        self.pairs
            .iter()
            .flat_map(|&b| [b >> 4, b & 0x0F])
            .take(self.len())
            .map(move |code| packing.char_of(code).unwrap_or(0))
    }
}

impl StrRef<'_> {
    /// The text when it can be borrowed: `None` for a packed string, which must be unpacked.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            StrRef::Token(s) => Some(s),
            StrRef::Text(s) => Some(s),
            StrRef::Packed(_) => None,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            StrRef::Token(s) => s.len(),
            StrRef::Text(s) => s.len(),
            StrRef::Packed(p) => p.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text, borrowed unless it was packed.
    pub fn to_cow(&self) -> Cow<'_, str> {
        match self {
            StrRef::Token(s) => Cow::Borrowed(s),
            StrRef::Text(s) => Cow::Borrowed(s),
            StrRef::Packed(p) => Cow::Owned(p.chars().map(char::from).collect()),
        }
    }

    /// The string as the owned tree keeps it: tokens stay `'static`, the rest is copied.
    pub fn to_node_str(&self) -> NodeStr {
        match self {
            StrRef::Token(s) => Cow::Borrowed(s),
            StrRef::Text(s) => Cow::Owned((*s).to_owned()),
            StrRef::Packed(p) => Cow::Owned(p.chars().map(char::from).collect()),
        }
    }
}

impl PartialEq<str> for StrRef<'_> {
    fn eq(&self, other: &str) -> bool {
        match self {
            StrRef::Token(s) => *s == other,
            StrRef::Text(s) => *s == other,
            StrRef::Packed(p) => p.len() == other.len() && p.chars().eq(other.bytes()),
        }
    }
}

impl PartialEq<&str> for StrRef<'_> {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl fmt::Display for StrRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_cow())
    }
}

impl fmt::Debug for StrRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_cow(), f)
    }
}

/// A JID as the wire carries it; the server is a token or text, mapped to [`Server`] only when
/// the JID is made owned.
#[derive(Clone, Copy)]
pub struct JidRef<'a> {
    /// The user part (empty for a server JID).
    pub user: StrRef<'a>,
    /// The server part, e.g. `s.whatsapp.net`.
    pub server: StrRef<'a>,
    /// Raw agent of an `AD_JID` whose domain type names no server; 0 otherwise.
    pub agent: u8,
    /// Device number.
    pub device: u16,
    /// Integrator of an interop JID.
    pub integrator: u16,
}

impl JidRef<'_> {
    /// The owned JID, the same one [`decode`](super::decode) gives.
    pub fn to_jid(&self) -> Jid {
        Jid {
            user: self.user.to_cow().into_owned(),
            agent: self.agent,
            device: self.device,
            integrator: self.integrator,
            server: Server::from_wire(&self.server.to_cow()),
        }
    }
}

impl fmt::Debug for JidRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_jid(), f)
    }
}

/// An attribute value: a string, or a JID form.
#[derive(Clone, Copy, Debug)]
pub enum AttrRef<'a> {
    /// A string.
    Str(StrRef<'a>),
    /// A JID.
    Jid(JidRef<'a>),
}

impl AttrRef<'_> {
    /// The string, or `None` for a JID.
    pub fn as_str_ref(&self) -> Option<StrRef<'_>> {
        match self {
            AttrRef::Str(s) => Some(*s),
            AttrRef::Jid(_) => None,
        }
    }

    /// The owned value, as [`decode`](super::decode) gives it.
    pub fn to_attr_value(&self) -> AttrValue {
        match self {
            AttrRef::Str(s) => AttrValue::String(s.to_node_str()),
            AttrRef::Jid(j) => AttrValue::Jid(j.to_jid()),
        }
    }
}

/// Any value: what may appear as content bytes. Raw bytes here need not be UTF-8.
#[derive(Clone, Copy, Debug)]
pub enum ValueRef<'a> {
    /// A token, a packed string or UTF-8 text.
    Str(StrRef<'a>),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// A JID form.
    Jid(JidRef<'a>),
}

impl<'a> ValueRef<'a> {
    /// The bytes when they can be borrowed (raw bytes and tokens); `None` for packed strings
    /// and JIDs, whose bytes are their text.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            ValueRef::Bytes(b) => Some(b),
            ValueRef::Str(StrRef::Token(s)) => Some(s.as_bytes()),
            ValueRef::Str(StrRef::Text(s)) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The content bytes the owned tree holds: a slice of `owner` when the bytes lie inside it,
    /// a copy otherwise; strings and JIDs in content position become their UTF-8 text.
    pub fn to_bytes(&self, owner: Option<&Bytes>) -> Bytes {
        match *self {
            ValueRef::Str(StrRef::Token(s)) => Bytes::from_static(s.as_bytes()),
            ValueRef::Bytes(b) => share_or_copy(b, owner),
            ValueRef::Str(StrRef::Text(s)) => share_or_copy(s.as_bytes(), owner),
            ValueRef::Str(s @ StrRef::Packed(_)) => Bytes::from(s.to_cow().into_owned()),
            ValueRef::Jid(j) => Bytes::from(j.to_jid().to_string()),
        }
    }
}

/// `owner.slice_ref(b)` when `b` is inside `owner` (which `slice_ref` requires), else a copy.
fn share_or_copy(b: &[u8], owner: Option<&Bytes>) -> Bytes {
    match owner {
        Some(o) if contains(o, b) => o.slice_ref(b),
        _ => Bytes::copy_from_slice(b),
    }
}

fn contains(outer: &[u8], inner: &[u8]) -> bool {
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    at >= start && at + inner.len() <= start + outer.len()
}

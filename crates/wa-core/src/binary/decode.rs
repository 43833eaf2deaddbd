//! Bytes → node, for one node body (no flags byte; see `frame.rs` for that).
//!
//! Input comes from the network, so: every length is checked against what is left of the input
//! before anything is allocated for it, nesting and sizes have hard limits, nothing panics, and
//! each error names what was wrong and the offset (from the start of the body) where it was.

use std::borrow::Cow;

use bytes::Bytes;

use super::jid::{Jid, Server};
use super::node::{Attr, AttrValue, Content, Node, NodeStr};
use super::packed::Packing;
use super::tags::*;
use super::token;

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
    if body.len() > limits.max_size {
        return Err(DecodeError::TooLarge {
            len: body.len(),
            max: limits.max_size,
        });
    }
    let mut d = Decoder {
        data: body,
        owner,
        pos: 0,
        max_depth: limits.max_depth,
    };
    let node = d.node(1)?;
    if d.pos != body.len() {
        return Err(DecodeError::TrailingBytes {
            offset: d.pos,
            remaining: body.len() - d.pos,
        });
    }
    Ok(node)
}

/// A string-like value as read, before deciding whether it becomes a string, bytes or a JID.
enum Value<'a> {
    Token(&'static str),
    /// Raw bytes and the offset where they start (for UTF-8 errors).
    Raw(&'a [u8], usize),
    Packed(String),
    Jid(Jid),
}

struct Decoder<'a> {
    data: &'a [u8],
    /// The buffer `data` lives in, when content may share it instead of copying.
    owner: Option<&'a Bytes>,
    pos: usize,
    max_depth: usize,
}

impl<'a> Decoder<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: n,
                remaining: self.remaining(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Size of a list whose tag was just read at `offset`.
    fn list_size(&mut self, tag: u8, offset: usize) -> Result<usize, DecodeError> {
        match tag {
            LIST_EMPTY => Ok(0),
            LIST_8 => Ok(usize::from(self.u8()?)),
            LIST_16 => Ok(usize::from(self.u16()?)),
            _ => Err(DecodeError::UnexpectedTag {
                offset,
                tag,
                expected: "a list",
            }),
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, DecodeError> {
        let start = self.pos;
        if depth > self.max_depth {
            return Err(DecodeError::TooDeep {
                offset: start,
                max: self.max_depth,
            });
        }
        let tag = self.u8()?;
        let n = self.list_size(tag, start)?;
        if n == 0 {
            return Err(DecodeError::EmptyNode { offset: start });
        }
        // Each of the n items takes at least one byte: refuse impossible counts up front.
        if n > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: n,
                remaining: self.remaining(),
            });
        }
        let tag_offset = self.pos;
        let tag = self.plain_string("a tag")?;
        if tag.is_empty() {
            return Err(DecodeError::EmptyTag { offset: tag_offset });
        }
        let attr_count = (n - 1) / 2;
        let mut attrs = Vec::with_capacity(attr_count);
        for _ in 0..attr_count {
            let key = self.plain_string("an attribute key")?;
            let value = match self.value()? {
                Value::Jid(j) => AttrValue::Jid(j),
                v => AttrValue::String(Self::into_str(v)?),
            };
            attrs.push(Attr { key, value });
        }
        let content = if n % 2 == 0 {
            self.content(depth)?
        } else {
            Content::None
        };
        Ok(Node {
            tag,
            attrs,
            content,
        })
    }

    fn content(&mut self, depth: usize) -> Result<Content, DecodeError> {
        let offset = self.pos;
        let tag = self.u8()?;
        match tag {
            LIST_EMPTY | LIST_8 | LIST_16 => {
                let count = self.list_size(tag, offset)?;
                // The smallest node is three bytes (`F8 01 tag`); never reserve more than fits.
                let mut children = Vec::with_capacity(count.min(self.remaining() / 3));
                for _ in 0..count {
                    children.push(self.node(depth + 1)?);
                }
                Ok(Content::Nodes(children))
            }
            _ => {
                self.pos = offset;
                Ok(Content::Bytes(match self.value()? {
                    Value::Token(s) => Bytes::from_static(s.as_bytes()),
                    Value::Raw(b, _) => match self.owner {
                        Some(owner) => owner.slice_ref(b),
                        None => Bytes::copy_from_slice(b),
                    },
                    Value::Packed(s) => Bytes::from(s.into_bytes()),
                    Value::Jid(j) => Bytes::from(j.to_string().into_bytes()),
                }))
            }
        }
    }

    /// A string that must not be a JID: tags, keys, and the parts of a JID.
    fn plain_string(&mut self, expected: &'static str) -> Result<NodeStr, DecodeError> {
        let offset = self.pos;
        match self.value()? {
            Value::Jid(_) => Err(DecodeError::UnexpectedTag {
                offset,
                tag: self.data[offset],
                expected,
            }),
            v => Self::into_str(v),
        }
    }

    fn into_str(v: Value<'a>) -> Result<NodeStr, DecodeError> {
        Ok(match v {
            Value::Token(s) => Cow::Borrowed(s),
            Value::Raw(b, offset) => Cow::Owned(
                std::str::from_utf8(b)
                    .map_err(|source| DecodeError::InvalidUtf8 { offset, source })?
                    .to_owned(),
            ),
            Value::Packed(s) => Cow::Owned(s),
            // Unreachable in practice: callers route JIDs elsewhere before asking for a string.
            Value::Jid(j) => Cow::Owned(j.to_string()),
        })
    }

    /// Any string form or JID form.
    fn value(&mut self) -> Result<Value<'a>, DecodeError> {
        let offset = self.pos;
        let tag = self.u8()?;
        match tag {
            LIST_EMPTY => Ok(Value::Token("")),
            1..=235 => token::single(tag)
                .map(Value::Token)
                .ok_or(DecodeError::InvalidToken { offset }),
            DICTIONARY_0..=DICTIONARY_3 => {
                let index = self.u8()?;
                token::double(tag - DICTIONARY_0, index)
                    .map(Value::Token)
                    .ok_or(DecodeError::InvalidToken { offset })
            }
            BINARY_8 => {
                let len = usize::from(self.u8()?);
                self.raw(len)
            }
            BINARY_20 => {
                let b = self.take(3)?;
                let len =
                    usize::from(b[0] & 0x0F) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
                self.raw(len)
            }
            BINARY_32 => {
                let b = self.take(4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                // A length that does not fit usize certainly exceeds the input.
                self.raw(usize::try_from(len).unwrap_or(usize::MAX))
            }
            NIBBLE_8 => self.packed(Packing::Nibble, offset),
            HEX_8 => self.packed(Packing::Hex, offset),
            JID_PAIR => self.jid_pair(offset),
            AD_JID => {
                let domain_type = self.u8()?;
                let device = self.u8()?;
                let user = self.jid_part()?;
                Ok(Value::Jid(Jid::from_ad_parts(
                    domain_type,
                    device,
                    user.into_owned(),
                )))
            }
            FB_JID => {
                let user = self.jid_part()?;
                let device = self.u16()?;
                let server = self.jid_part()?;
                if server != "msgr" {
                    return Err(DecodeError::InvalidJid {
                        offset,
                        reason: "FB_JID server is not msgr",
                    });
                }
                Ok(Value::Jid(Jid::with_device(
                    user,
                    device,
                    Server::Messenger,
                )))
            }
            INTEROP_JID => {
                let user = self.jid_part()?;
                let device = self.u16()?;
                let integrator = self.u16()?;
                let server = self.jid_part()?;
                if server != "interop" {
                    return Err(DecodeError::InvalidJid {
                        offset,
                        reason: "INTEROP_JID server is not interop",
                    });
                }
                let mut jid = Jid::with_device(user, device, Server::Interop);
                jid.integrator = integrator;
                Ok(Value::Jid(jid))
            }
            _ => Err(DecodeError::UnexpectedTag {
                offset,
                tag,
                expected: "a string or JID",
            }),
        }
    }

    fn raw(&mut self, len: usize) -> Result<Value<'a>, DecodeError> {
        let offset = self.pos;
        Ok(Value::Raw(self.take(len)?, offset))
    }

    fn packed(&mut self, packing: Packing, offset: usize) -> Result<Value<'a>, DecodeError> {
        let head = self.u8()?;
        let odd = head & 0x80 != 0;
        let pairs = self.take(usize::from(head & 0x7F))?;
        if odd && pairs.is_empty() {
            return Err(DecodeError::InvalidPacked { offset });
        }
        let mut s = String::with_capacity(pairs.len() * 2);
        for &b in pairs {
            for code in [b >> 4, b & 0x0F] {
                let c = packing
                    .char_of(code)
                    .ok_or(DecodeError::InvalidPacked { offset })?;
                s.push(char::from(c));
            }
        }
        if odd {
            s.pop();
        }
        Ok(Value::Packed(s))
    }

    fn jid_pair(&mut self, offset: usize) -> Result<Value<'a>, DecodeError> {
        let user = self.jid_part()?;
        let server = self.jid_part()?;
        if server.is_empty() {
            return Err(DecodeError::InvalidJid {
                offset,
                reason: "JID_PAIR has an empty server",
            });
        }
        Ok(Value::Jid(Jid::new(user, Server::from_wire(&server))))
    }

    /// The user or server of a JID: any string form except another JID. Borrowed when it is a
    /// token, so a server such as `s.whatsapp.net` costs no allocation.
    fn jid_part(&mut self) -> Result<NodeStr, DecodeError> {
        self.plain_string("a JID part")
    }
}

//! The WABinary grammar read over a borrowed body, allocating nothing: both the owned decoder
//! (`decode.rs`) and the borrowed view (`view.rs`) are built on it, so they accept and refuse
//! exactly the same bytes, with the same errors at the same offsets.
//!
//! Input comes from the network, so every length is checked against what is left before it is
//! used, and nothing panics.

use super::decode::DecodeError;
use super::jid::{DOMAIN_HOSTED, DOMAIN_HOSTED_LID, DOMAIN_LID, DOMAIN_WHATSAPP};
use super::packed::Packing;
use super::refs::{AttrRef, JidRef, Packed, StrRef, ValueRef};
use super::tags::*;
use super::token;

/// What starts a node: its tag and how many attributes and whether content follow.
pub(super) struct Header<'a> {
    pub tag: StrRef<'a>,
    pub attr_count: usize,
    pub has_content: bool,
}

/// What the content of a node starts with.
pub(super) enum ContentStart<'a> {
    /// A list of this many child nodes follows.
    Children(usize),
    /// A single value.
    Value(ValueRef<'a>),
}

/// A cursor over one node body.
#[derive(Clone)]
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], pos: usize, max_depth: usize) -> Reader<'a> {
        Reader {
            data,
            pos,
            max_depth,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn end(&self, needed: usize) -> DecodeError {
        DecodeError::UnexpectedEnd {
            offset: self.pos,
            needed,
            remaining: self.remaining(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let s = self
            .data
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or_else(|| self.end(n))?;
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.end(1))?;
        self.pos += 1;
        Ok(b)
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

    /// The list header and tag of a node at `depth` (the top node is 1).
    pub fn header(&mut self, depth: usize) -> Result<Header<'a>, DecodeError> {
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
            return Err(self.end(n));
        }
        let tag_offset = self.pos;
        let tag = self.plain_string("a tag")?;
        if tag.is_empty() {
            return Err(DecodeError::EmptyTag { offset: tag_offset });
        }
        Ok(Header {
            tag,
            attr_count: (n - 1) / 2,
            has_content: n % 2 == 0,
        })
    }

    /// An attribute: its key and value.
    pub fn attr(&mut self) -> Result<(StrRef<'a>, AttrRef<'a>), DecodeError> {
        let key = self.key()?;
        Ok((key, self.attr_value()?))
    }

    /// An attribute key.
    pub fn key(&mut self) -> Result<StrRef<'a>, DecodeError> {
        self.plain_string("an attribute key")
    }

    /// An attribute value: a JID, or a string (raw bytes must be UTF-8).
    pub fn attr_value(&mut self) -> Result<AttrRef<'a>, DecodeError> {
        Ok(match self.value()? {
            ValueRef::Jid(j) => AttrRef::Jid(j),
            ValueRef::Str(s) => AttrRef::Str(s),
            ValueRef::Bytes(b) => AttrRef::Str(StrRef::Text(self.utf8(b)?)),
        })
    }

    /// The start of a node's content.
    pub fn content(&mut self) -> Result<ContentStart<'a>, DecodeError> {
        let offset = self.pos;
        let tag = self.u8()?;
        match tag {
            LIST_EMPTY | LIST_8 | LIST_16 => {
                Ok(ContentStart::Children(self.list_size(tag, offset)?))
            }
            _ => {
                self.pos = offset;
                Ok(ContentStart::Value(self.value()?))
            }
        }
    }

    /// Reads a whole node at `depth` and everything in it, keeping nothing: the check that the
    /// borrowed view runs once over a body before it hands anything out.
    pub fn skip_node(&mut self, depth: usize) -> Result<(), DecodeError> {
        let header = self.header(depth)?;
        for _ in 0..header.attr_count {
            self.attr()?;
        }
        if header.has_content {
            if let ContentStart::Children(count) = self.content()? {
                for _ in 0..count {
                    self.skip_node(depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Raw bytes that must be text, which started at the current position minus their length.
    fn utf8(&self, b: &'a [u8]) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(b).map_err(|source| DecodeError::InvalidUtf8 {
            offset: self.pos - b.len(),
            source,
        })
    }

    /// A string that must not be a JID: tags, keys, and the parts of a JID.
    fn plain_string(&mut self, expected: &'static str) -> Result<StrRef<'a>, DecodeError> {
        let offset = self.pos;
        match self.value()? {
            ValueRef::Str(s) => Ok(s),
            ValueRef::Bytes(b) => Ok(StrRef::Text(self.utf8(b)?)),
            ValueRef::Jid(_) => Err(DecodeError::UnexpectedTag {
                offset,
                tag: self.data.get(offset).copied().unwrap_or_default(),
                expected,
            }),
        }
    }

    /// Any string form or JID form.
    #[inline(always)]
    fn value(&mut self) -> Result<ValueRef<'a>, DecodeError> {
        // Single-byte tokens are most items of most stanzas: take them without the full match.
        if let Some(s) = self.data.get(self.pos).and_then(|&t| token::single(t)) {
            self.pos += 1;
            return Ok(ValueRef::Str(StrRef::Token(s)));
        }
        self.any_value()
    }

    fn any_value(&mut self) -> Result<ValueRef<'a>, DecodeError> {
        let offset = self.pos;
        let tag = self.u8()?;
        let token = |s: Option<&'static str>| {
            s.map(|s| ValueRef::Str(StrRef::Token(s)))
                .ok_or(DecodeError::InvalidToken { offset })
        };
        match tag {
            LIST_EMPTY => Ok(ValueRef::Str(StrRef::Token(""))),
            1..=235 => token(token::single(tag)),
            DICTIONARY_0..=DICTIONARY_3 => {
                let index = self.u8()?;
                token(token::double(tag - DICTIONARY_0, index))
            }
            BINARY_8 => {
                let len = usize::from(self.u8()?);
                Ok(ValueRef::Bytes(self.take(len)?))
            }
            BINARY_20 => {
                let b = self.take(3)?;
                let len =
                    usize::from(b[0] & 0x0F) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
                Ok(ValueRef::Bytes(self.take(len)?))
            }
            BINARY_32 => {
                let b = self.take(4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                // A length that does not fit usize certainly exceeds the input.
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                Ok(ValueRef::Bytes(self.take(len)?))
            }
            NIBBLE_8 => self.packed(Packing::Nibble, offset),
            HEX_8 => self.packed(Packing::Hex, offset),
            JID_PAIR => {
                let user = self.plain_string("a JID part")?;
                let server = self.plain_string("a JID part")?;
                if server.is_empty() {
                    return Err(DecodeError::InvalidJid {
                        offset,
                        reason: "JID_PAIR has an empty server",
                    });
                }
                Ok(jid(user, server, 0, 0, 0))
            }
            AD_JID => {
                let domain_type = self.u8()?;
                let device = u16::from(self.u8()?);
                let user = self.plain_string("a JID part")?;
                let (server, agent) = match domain_type {
                    DOMAIN_WHATSAPP => ("s.whatsapp.net", 0),
                    DOMAIN_LID => ("lid", 0),
                    DOMAIN_HOSTED => ("hosted", 0),
                    DOMAIN_HOSTED_LID => ("hosted.lid", 0),
                    agent => ("s.whatsapp.net", agent),
                };
                Ok(jid(user, StrRef::Token(server), agent, device, 0))
            }
            FB_JID => {
                let user = self.plain_string("a JID part")?;
                let device = self.u16()?;
                let server = self.plain_string("a JID part")?;
                if server != "msgr" {
                    return Err(DecodeError::InvalidJid {
                        offset,
                        reason: "FB_JID server is not msgr",
                    });
                }
                Ok(jid(user, server, 0, device, 0))
            }
            INTEROP_JID => {
                let user = self.plain_string("a JID part")?;
                let device = self.u16()?;
                let integrator = self.u16()?;
                let server = self.plain_string("a JID part")?;
                if server != "interop" {
                    return Err(DecodeError::InvalidJid {
                        offset,
                        reason: "INTEROP_JID server is not interop",
                    });
                }
                Ok(jid(user, server, 0, device, integrator))
            }
            _ => Err(DecodeError::UnexpectedTag {
                offset,
                tag,
                expected: "a string or JID",
            }),
        }
    }

    fn packed(&mut self, packing: Packing, offset: usize) -> Result<ValueRef<'a>, DecodeError> {
        let head = self.u8()?;
        let odd = head & 0x80 != 0;
        let pairs = self.take(usize::from(head & 0x7F))?;
        if odd && pairs.is_empty() {
            return Err(DecodeError::InvalidPacked { offset });
        }
        // Every code must have a character, the odd string's pad included (as before unpacking).
        if !pairs.iter().all(|&b| packing.valid_pair(b)) {
            return Err(DecodeError::InvalidPacked { offset });
        }
        Ok(ValueRef::Str(StrRef::Packed(Packed {
            packing,
            pairs,
            odd,
        })))
    }
}

fn jid<'a>(
    user: StrRef<'a>,
    server: StrRef<'a>,
    agent: u8,
    device: u16,
    integrator: u16,
) -> ValueRef<'a> {
    ValueRef::Jid(JidRef {
        user,
        server,
        agent,
        device,
        integrator,
    })
}

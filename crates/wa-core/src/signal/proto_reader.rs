//! A minimal protobuf reader for the two pairwise wire messages, so a malformed message is
//! refused with the byte offset where it went wrong (prost's decoder does not report one) and
//! without allocating before the message is known to be well formed.

use super::error::{Malformed, SignalError};

/// A field value as it appears on the wire.
pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Fixed 32- and 64-bit values; the pairwise messages have none, so they are skipped.
    Fixed,
}

/// One field: its number, its value, and the offset of its value (for `bytes`, of the content
/// after the length) in the input.
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    pub(crate) value: Value<'a>,
    pub(crate) offset: usize,
}

/// Iterates over the fields of one message; `base` is the message's offset in the outer input,
/// so errors point into the bytes the caller was given.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
        }
    }

    fn error(&self, at: usize, what: Malformed) -> SignalError {
        SignalError::malformed(self.base + at, what)
    }

    fn varint(&mut self) -> Result<u64, SignalError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.error(self.pos, Malformed::Truncated));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(self.error(start, Malformed::BadVarint));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error(start, Malformed::BadVarint))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], SignalError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error(self.pos, Malformed::Truncated))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    /// The next field, or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<Field<'a>>, SignalError> {
        if self.pos == self.bytes.len() {
            return Ok(None);
        }
        let tag_at = self.pos;
        let tag = self.varint()?;
        let number =
            u32::try_from(tag >> 3).map_err(|_| self.error(tag_at, Malformed::BadVarint))?;
        if number == 0 {
            return Err(self.error(tag_at, Malformed::FieldZero));
        }
        let mut offset = self.base + self.pos;
        let value = match tag & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len_at = self.pos;
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| self.error(len_at, Malformed::Truncated))?;
                offset = self.base + self.pos;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(self.error(tag_at, Malformed::WireType(other as u8))),
        };
        Ok(Some(Field {
            number,
            value,
            offset,
        }))
    }
}

impl<'a> Field<'a> {
    /// The value as a `uint32`, refusing other wire types and values that do not fit.
    pub(crate) fn uint32(&self) -> Result<u32, SignalError> {
        match self.value {
            Value::Varint(v) => u32::try_from(v)
                .map_err(|_| SignalError::malformed(self.offset, Malformed::BadVarint)),
            Value::Bytes(_) => Err(SignalError::malformed(self.offset, Malformed::WireType(2))),
            Value::Fixed => Err(SignalError::malformed(self.offset, Malformed::WireType(1))),
        }
    }

    /// The value as `bytes`, with the offset where its content starts.
    pub(crate) fn bytes(&self) -> Result<(&'a [u8], usize), SignalError> {
        match self.value {
            Value::Bytes(b) => Ok((b, self.offset)),
            Value::Varint(_) => Err(SignalError::malformed(self.offset, Malformed::WireType(0))),
            Value::Fixed => Err(SignalError::malformed(self.offset, Malformed::WireType(1))),
        }
    }
}

//! The tag bytes of the WABinary grammar (protocol.md §4.2).
//!
//! Bytes 1..=235 are single-byte tokens; everything else that can start a value is listed here.

/// An empty list, or an empty string / absent user where a string is expected.
pub const LIST_EMPTY: u8 = 0x00;
/// First of the four double-byte token dictionaries (`0xEC + d`, then the index).
pub const DICTIONARY_0: u8 = 0xEC;
/// Last of the four double-byte token dictionaries.
pub const DICTIONARY_3: u8 = 0xEF;
/// Interop JID: user, device (u16), integrator (u16), server `interop`.
pub const INTEROP_JID: u8 = 0xF5;
/// Messenger JID: user, device (u16), server `msgr`.
pub const FB_JID: u8 = 0xF6;
/// Device JID: domain type (u8), device (u8), user.
pub const AD_JID: u8 = 0xF7;
/// List with a one-byte size.
pub const LIST_8: u8 = 0xF8;
/// List with a two-byte big-endian size.
pub const LIST_16: u8 = 0xF9;
/// `user@server` JID: user (or `LIST_EMPTY`), server.
pub const JID_PAIR: u8 = 0xFA;
/// Packed string over `0-9A-F`.
pub const HEX_8: u8 = 0xFB;
/// Raw bytes with a one-byte length.
pub const BINARY_8: u8 = 0xFC;
/// Raw bytes with a 20-bit length in three bytes (upper four bits ignored).
pub const BINARY_20: u8 = 0xFD;
/// Raw bytes with a four-byte big-endian length.
pub const BINARY_32: u8 = 0xFE;
/// Packed string over `0-9 - .`.
pub const NIBBLE_8: u8 = 0xFF;
/// Longest string the encoder packs into nibbles or hex digits.
pub const PACKED_MAX: usize = 127;

/// Dictionary version of the token tables; the fourth byte of the connection intro `WA 06 03`.
pub const DICTIONARY_VERSION: u8 = 3;

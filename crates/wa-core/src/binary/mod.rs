//! WABinary: the binary XML-like encoding of every stanza after the Noise handshake
//! (protocol.md §4).
//!
//! * [`Node`] is the tree; [`Jid`] the typed address used in attribute values.
//! * [`encode`] writes frame plaintext (flags byte `00` + node); [`decode`] reads it, inflating
//!   zlib bodies, under [`DecodeLimits`].
//! * [`view`] checks the same bytes against the same grammar and limits but builds nothing: a
//!   [`NodeRef`] reads tag, attributes and content from the frame when asked, for the paths
//!   that only route or answer a stanza; [`NodeRef::to_node`] gives the owned tree.
//!
//! Choices where the reference implementations differ:
//!
//! * Attribute order is kept (a `Vec`), so encoding is deterministic and byte-comparable with
//!   Baileys.
//! * An empty attribute value is written as `FC 00` (Baileys) rather than dropped (whatsmeow).
//! * Only typed [`Jid`] values are written in a JID form (whatsmeow); a string that looks like a
//!   JID stays a string. Code that starts from text and wants Baileys' behaviour uses
//!   [`AttrValue::from_text`].
//! * `AD_JID` is written by whatsmeow's rule ([`Jid::is_ad`]): device > 0 on `s.whatsapp.net`
//!   and `lid`, always on `hosted` and `hosted.lid`; Baileys writes it for any `:device`.
//! * A string form in content position (token, packed, JID) decodes to its UTF-8 bytes; Baileys
//!   returns a JS string there and a `Buffer` for raw bytes. Content bytes are always written as
//!   `BINARY_n`.
//! * Decoding is stricter than Baileys where leniency would lose information: JIDs inside JIDs,
//!   `FB_JID`/`INTEROP_JID` with a foreign server, non-UTF-8 tags, keys and attribute values,
//!   and bytes after the node are errors.

mod check;
mod decode;
mod encode;
mod frame;
mod jid;
mod node;
mod packed;
mod reader;
mod refs;
pub mod tags;
mod token;
// Generated from Baileys' dictionaries by conformance/gen-tokens.mjs; not edited by hand.
#[path = "tokens_generated.rs"]
mod tokens;
mod view;

pub use decode::{
    decode_body, decode_body_shared, DecodeError, DecodeLimits, DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE,
};
pub use encode::{encode, encode_body_into, EncodeError};
pub use frame::{
    decode, decode_shared, decode_shared_with_limits, decode_with_limits, FLAG_COMPRESSED,
};
pub use jid::{
    Jid, JidParseError, Server, DOMAIN_HOSTED, DOMAIN_HOSTED_LID, DOMAIN_LID, DOMAIN_WHATSAPP,
};
pub use node::{Attr, AttrValue, Content, Node, NodeStr};
pub use refs::{AttrRef, JidRef, Packed, StrRef, ValueRef};
pub use token::{lookup as token_lookup, Token};
pub use view::{view, view_body, view_with_limits, Attrs, Children, ContentRef, NodeRef};

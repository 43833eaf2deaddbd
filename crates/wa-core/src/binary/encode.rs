//! Node → bytes. Deterministic: the same tree always gives the same bytes, attributes in order.

use super::decode::DEFAULT_MAX_DEPTH;
use super::jid::{Jid, Server};
use super::node::{AttrValue, Content, Node};
use super::packed;
use super::tags::*;
use super::token::{self, Token};

/// Why a node could not be encoded. Encoding never silently drops or truncates anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A node with an empty tag; the decoder of every implementation rejects it.
    #[error("node has an empty tag")]
    EmptyTag,
    /// More attributes or children than a `LIST_16` can count.
    #[error("list of {0} items is longer than 65535")]
    ListTooLong(usize),
    /// Bytes or a string longer than `BINARY_32` can carry.
    #[error("{0} bytes are too many for one value")]
    BytesTooLong(usize),
    /// Nested deeper than the decoder accepts.
    #[error("nodes are nested deeper than {0}")]
    TooDeep(usize),
    /// A JID whose fields cannot all be written in any JID form.
    #[error("JID {jid} cannot be encoded: {reason}")]
    InvalidJid {
        /// The JID in text form.
        jid: String,
        /// What does not fit.
        reason: &'static str,
    },
}

/// Encodes a node as frame plaintext: the flags byte `00` followed by the node.
///
/// ```
/// use wa_core::binary::{decode, encode, Node};
///
/// let ping = Node::new("iq")
///     .with_attr("id", "42")
///     .with_attr("type", "get")
///     .with_attr("xmlns", "w:p")
///     .with_children(vec![Node::new("ping")]);
/// let frame = encode(&ping)?;
/// assert_eq!(frame[0], 0, "not compressed");
/// // `iq`, `type`, `get`, `xmlns` and `ping` are dictionary tokens: one byte each.
/// assert!(frame.len() < 20, "{} bytes", frame.len());
/// assert_eq!(decode(&frame)?, ping);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode(node: &Node) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(estimate(node) + 1);
    out.push(0);
    encode_body_into(node, &mut out)?;
    Ok(out)
}

/// Appends the node without a flags byte. On error `out` may hold a partial node.
pub fn encode_body_into(node: &Node, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    Encoder { out }.node(node, 1)
}

/// A cheap upper-bound-ish guess of the encoded size, so large contents allocate once: tags,
/// keys and values are mostly a token or a short packed id, so 16 bytes a pair is generous.
fn estimate(node: &Node) -> usize {
    16 * (1 + node.attrs.len())
        + match &node.content {
            Content::None => 0,
            Content::Bytes(b) => b.len() + 5,
            Content::Nodes(children) => children.iter().map(estimate).sum::<usize>() + 3,
        }
}

struct Encoder<'o> {
    out: &'o mut Vec<u8>,
}

impl Encoder<'_> {
    fn node(&mut self, node: &Node, depth: usize) -> Result<(), EncodeError> {
        if depth > DEFAULT_MAX_DEPTH {
            return Err(EncodeError::TooDeep(DEFAULT_MAX_DEPTH));
        }
        if node.tag.is_empty() {
            return Err(EncodeError::EmptyTag);
        }
        let has_content = !matches!(node.content, Content::None);
        self.list_start(1 + 2 * node.attrs.len() + usize::from(has_content))?;
        self.string(&node.tag)?;
        for attr in &node.attrs {
            self.string(&attr.key)?;
            match &attr.value {
                // An empty value is written as `FC 00` and kept, as Baileys does; whatsmeow
                // drops such attributes, but dropping would make encoding lossy.
                AttrValue::String(s) => self.string(s)?,
                AttrValue::Jid(j) => self.jid(j)?,
            }
        }
        match &node.content {
            Content::None => {}
            Content::Bytes(b) => self.bytes(b)?,
            Content::Nodes(children) => {
                self.list_start(children.len())?;
                for child in children {
                    self.node(child, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn list_start(&mut self, len: usize) -> Result<(), EncodeError> {
        match len {
            0 => self.out.push(LIST_EMPTY),
            1..=0xFF => self.out.extend_from_slice(&[LIST_8, len as u8]),
            0x100..=0xFFFF => {
                self.out.push(LIST_16);
                self.out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => return Err(EncodeError::ListTooLong(len)),
        }
        Ok(())
    }

    /// Strings in the order of protocol.md §4.2: token, packed, raw bytes. Inlined: almost every
    /// tag and key is a token, and that path is a hash probe and a byte or two.
    #[inline(always)]
    fn string(&mut self, s: &str) -> Result<(), EncodeError> {
        match token::lookup(s) {
            Some(t) => {
                self.token(t);
                Ok(())
            }
            None => self.not_token(s),
        }
    }

    /// Values that are no token: ids and numbers packed, the rest raw. Kept out of line so the
    /// token path above stays small where it is inlined.
    #[inline(never)]
    fn not_token(&mut self, s: &str) -> Result<(), EncodeError> {
        if packed::write(self.out, s) {
            Ok(())
        } else {
            self.bytes(s.as_bytes())
        }
    }

    #[inline(always)]
    fn token(&mut self, t: Token) {
        match t {
            Token::Single(i) => self.out.push(i),
            Token::Double { dictionary, index } => self
                .out
                .extend_from_slice(&[DICTIONARY_0 + dictionary, index]),
        }
    }

    /// A JID's server: for the named servers the token is found at compile time.
    #[inline(always)]
    fn server(&mut self, server: &Server) -> Result<(), EncodeError> {
        static PN: Option<Token> = token::lookup_const("s.whatsapp.net");
        static LID: Option<Token> = token::lookup_const("lid");
        static GROUP: Option<Token> = token::lookup_const("g.us");
        static BROADCAST: Option<Token> = token::lookup_const("broadcast");
        let known = match server {
            Server::Pn => PN,
            Server::Lid => LID,
            Server::Group => GROUP,
            Server::Broadcast => BROADCAST,
            _ => None,
        };
        match known {
            Some(t) => {
                self.token(t);
                Ok(())
            }
            None => self.other_server(server),
        }
    }

    #[inline(never)]
    fn other_server(&mut self, server: &Server) -> Result<(), EncodeError> {
        self.string(server.as_str())
    }

    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let len = b.len();
        if len < 0x100 {
            self.out.extend_from_slice(&[BINARY_8, len as u8]);
        } else if len < 1 << 20 {
            self.out.push(BINARY_20);
            self.out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        } else {
            let len32 = u32::try_from(len).map_err(|_| EncodeError::BytesTooLong(len))?;
            self.out.push(BINARY_32);
            self.out.extend_from_slice(&len32.to_be_bytes());
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    fn jid(&mut self, jid: &Jid) -> Result<(), EncodeError> {
        let invalid = |reason| EncodeError::InvalidJid {
            jid: jid.to_string(),
            reason,
        };
        if jid.agent != 0 && jid.server != Server::Pn {
            return Err(invalid("only s.whatsapp.net JIDs carry an agent"));
        }
        if jid.integrator != 0 && jid.server != Server::Interop {
            return Err(invalid("only interop JIDs carry an integrator"));
        }
        match jid.server {
            Server::Messenger => {
                self.out.push(FB_JID);
                self.string(&jid.user)?;
                self.out.extend_from_slice(&jid.device.to_be_bytes());
                self.server(&jid.server)?;
            }
            Server::Interop => {
                self.out.push(INTEROP_JID);
                self.string(&jid.user)?;
                self.out.extend_from_slice(&jid.device.to_be_bytes());
                self.out.extend_from_slice(&jid.integrator.to_be_bytes());
                self.server(&jid.server)?;
            }
            _ if jid.is_ad() => {
                let domain_type = match jid.agent {
                    0 => jid.server.domain_type(),
                    // A raw agent equal to a known domain type would be read back as that server.
                    1 | 128 | 129 => return Err(invalid("agent collides with a domain type")),
                    agent => Some(agent),
                }
                .ok_or_else(|| invalid("server has no AD_JID domain type"))?;
                let device = u8::try_from(jid.device)
                    .map_err(|_| invalid("AD_JID device must be below 256"))?;
                self.out.extend_from_slice(&[AD_JID, domain_type, device]);
                self.string(&jid.user)?;
            }
            _ => {
                if jid.device != 0 {
                    return Err(invalid("JID_PAIR cannot carry a device"));
                }
                self.out.push(JID_PAIR);
                if jid.user.is_empty() {
                    self.out.push(LIST_EMPTY);
                } else {
                    self.string(&jid.user)?;
                }
                self.server(&jid.server)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(node: &Node) -> String {
        hex::encode(encode(node).unwrap())
    }

    #[test]
    fn encodes_worked_examples() {
        let ping = Node::new("iq")
            .with_attr("id", "1.2-3")
            .with_attr("xmlns", "w:p")
            .with_attr("type", "get")
            .with_attr("to", Jid::server_jid(Server::Pn));
        assert_eq!(enc(&ping), "00f8091908ff831b2a3f1657042911fa0003");
        let enc_node = Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", "msg")
            .with_bytes(vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(enc(&enc_node), "00f8061d5145044dfc04deadbeef");
        let presence = Node::new("presence")
            .with_attr("type", "available")
            .with_attr("name", "Ann");
        assert_eq!(enc(&presence), "00f8051f048889fc03416e6e");
    }

    #[test]
    fn empty_value_is_written_as_empty_bytes() {
        let n = Node::new("iq").with_attr("id", "");
        assert_eq!(enc(&n), "00f8031908fc00");
    }

    #[test]
    fn empty_children_list_differs_from_no_content() {
        assert_eq!(enc(&Node::new("iq")), "00f80119");
        assert_eq!(enc(&Node::new("iq").with_children(vec![])), "00f8021900");
    }

    #[test]
    fn length_forms_switch_at_their_boundaries() {
        let b = |len: usize| encode(&Node::new("enc").with_bytes(vec![7u8; len])).unwrap();
        assert_eq!(&b(255)[4..6], &[BINARY_8, 255]);
        assert_eq!(&b(256)[4..8], &[BINARY_20, 0x00, 0x01, 0x00]);
        assert_eq!(&b((1 << 20) - 1)[4..8], &[BINARY_20, 0x0f, 0xff, 0xff]);
        assert_eq!(&b(1 << 20)[4..9], &[BINARY_32, 0x00, 0x10, 0x00, 0x00]);
        let many = Node::new("list").with_children(vec![Node::new("item"); 256]);
        assert_eq!(&encode(&many).unwrap()[4..7], &[LIST_16, 0x01, 0x00]);
        let too_many = Node::new("list").with_children(vec![Node::new("item"); 65536]);
        assert_eq!(encode(&too_many), Err(EncodeError::ListTooLong(65536)));
    }

    #[test]
    fn rejects_what_cannot_be_written() {
        assert_eq!(encode(&Node::new("")), Err(EncodeError::EmptyTag));
        let with = |j: Jid| encode(&Node::new("a").with_attr("to", j));
        let mut j = Jid::with_device("1", 300, Server::Pn);
        assert!(matches!(
            with(j.clone()),
            Err(EncodeError::InvalidJid { .. })
        ));
        j.device = 3;
        j.agent = 128;
        assert!(matches!(with(j), Err(EncodeError::InvalidJid { .. })));
        assert!(matches!(
            with(Jid::with_device("1", 2, Server::Group)),
            Err(EncodeError::InvalidJid { .. })
        ));
        let mut deep = Node::new("leaf");
        for _ in 0..DEFAULT_MAX_DEPTH {
            deep = Node::new("n").with_children(vec![deep]);
        }
        assert_eq!(encode(&deep), Err(EncodeError::TooDeep(DEFAULT_MAX_DEPTH)));
    }

    #[test]
    fn jid_forms() {
        let with = |j: Jid| {
            let bytes = encode(&Node::new("iq").with_attr("to", j)).unwrap();
            hex::encode(&bytes[5..])
        };
        // msgr: FB_JID with a two-byte device and the server token.
        let fb = with(Jid::with_device("15551234567", 513, Server::Messenger));
        assert!(fb.starts_with("f6ff8615551234567f0201"), "{fb}");
        let mut interop = Jid::with_device("15551234567", 2, Server::Interop);
        interop.integrator = 7;
        assert!(with(interop).starts_with("f5ff8615551234567f00020007"));
        // hosted is always AD_JID, even with device 0.
        assert_eq!(
            with("15551234567@hosted".parse().unwrap()),
            "f78000ff8615551234567f"
        );
        assert_eq!(
            with("15551234567.7:1@s.whatsapp.net".parse().unwrap()),
            "f70701ff8615551234567f"
        );
        assert_eq!(
            with("15551234567@lid".parse().unwrap()),
            "faff8615551234567f".to_owned() + &hex::encode([token_byte("lid")])
        );
    }

    fn token_byte(s: &str) -> u8 {
        match token::lookup(s) {
            Some(Token::Single(b)) => b,
            other => panic!("{s} is {other:?}"),
        }
    }
}

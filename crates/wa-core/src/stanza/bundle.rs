//! Prekey bundles: the `encrypt` IQ that fetches them for devices we have no session with
//! (protocol.md §9.3), and the key nodes they share with a retry receipt's `<keys>`
//! (messaging.md §3.3).

use super::iq::Iq;
use super::{attr_jid, child, child_bytes, get_iq, iq_header, StanzaError};
use crate::binary::{Jid, Node};
use crate::signal::{PreKeyBundle, PublicKey, SignalPublicKey, DJB_TYPE, SIGNATURE_LEN};

/// `<iq xmlns="encrypt" type="get"><key><user jid=DEVICE/>…</key></iq>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleQuery {
    /// The devices to fetch bundles of.
    pub devices: Vec<Jid>,
    /// `reason="identity"`: asked again because a session must be rebuilt.
    pub rebuild: bool,
}

/// One device's answer: its bundle, or why the server has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBundle {
    /// The device.
    pub device: Jid,
    /// The bundle, or the server's error code and text (e.g. 404 for an unknown device).
    pub bundle: Result<PreKeyBundle, BundleError>,
}

/// Why a device has no usable bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The server answered `<error code text>` for this device.
    #[error("the server has no bundle for it: {code} {text}")]
    Server {
        /// The code.
        code: u16,
        /// Its text.
        text: String,
    },
    /// The bundle's nodes are malformed.
    #[error(transparent)]
    Shape(#[from] StanzaError),
}

impl Iq for BundleQuery {
    type Answer = Vec<DeviceBundle>;

    fn build(&self) -> Node {
        let users = self
            .devices
            .iter()
            .map(|d| {
                let user = Node::new("user").with_attr("jid", d.clone());
                if self.rebuild {
                    user.with_attr("reason", "identity")
                } else {
                    user
                }
            })
            .collect();
        get_iq("encrypt", vec![Node::new("key").with_children(users)])
    }

    fn parse(answer: &Node) -> Result<Vec<DeviceBundle>, StanzaError> {
        iq_header(answer)?;
        let list = child(answer, "iq", "list")?;
        list.children_by_tag("user")
            .map(|user| {
                let device = attr_jid(user, "user", "jid")?;
                let bundle = match user.child("error") {
                    Some(e) => Err(BundleError::Server {
                        code: e.attr_str("code").and_then(|c| c.parse().ok()).unwrap_or(0),
                        text: e.attr_str("text").unwrap_or("").to_owned(),
                    }),
                    None => parse_user_bundle(user).map_err(BundleError::from),
                };
                Ok(DeviceBundle { device, bundle })
            })
            .collect()
    }
}

/// A big-endian number of 1 to 4 bytes (ids are 3 bytes, the registration id 4).
fn be_number(node: &Node, parent: &'static str, tag: &'static str) -> Result<u32, StanzaError> {
    let bytes = child_bytes(node, parent, tag)?;
    if bytes.is_empty() || bytes.len() > 4 {
        return Err(StanzaError::ContentLength {
            tag,
            expected: 4,
            got: bytes.len(),
        });
    }
    Ok(bytes.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)))
}

/// A 32-byte key, also accepted `05`-prefixed (some servers send 33 bytes).
fn key(node: &Node, parent: &'static str, tag: &'static str) -> Result<PublicKey, StanzaError> {
    let bytes = child_bytes(node, parent, tag)?;
    let parsed = match bytes.len() {
        33 => SignalPublicKey::from_slice(bytes).map(|k| k.public_key()),
        _ => PublicKey::from_slice(bytes),
    };
    parsed.map_err(|_| StanzaError::ContentLength {
        tag,
        expected: 32,
        got: bytes.len(),
    })
}

/// The bundle under a `<user>` of the IQ answer (keys directly under it or in `<keys>`).
fn parse_user_bundle(user: &Node) -> Result<PreKeyBundle, StanzaError> {
    let registration_id = be_number(user, "user", "registration")?;
    let keys = user.child("keys").unwrap_or(user);
    parse_keys(keys, registration_id)
}

/// The identity, one-time prekey and signed prekey nodes, with the registration id read
/// beside them.
pub fn parse_keys(keys: &Node, registration_id: u32) -> Result<PreKeyBundle, StanzaError> {
    let identity_key = key(keys, "keys", "identity")?;
    let pre_key = match keys.child("key") {
        Some(k) => Some((be_number(k, "key", "id")?, key(k, "key", "value")?)),
        None => None,
    };
    let skey = child(keys, "keys", "skey")?;
    let signature = child_bytes(skey, "skey", "signature")?;
    let signed_pre_key_signature: [u8; SIGNATURE_LEN] =
        signature
            .try_into()
            .map_err(|_| StanzaError::ContentLength {
                tag: "signature",
                expected: SIGNATURE_LEN,
                got: signature.len(),
            })?;
    Ok(PreKeyBundle {
        registration_id,
        identity_key,
        signed_pre_key_id: be_number(skey, "skey", "id")?,
        signed_pre_key: key(skey, "skey", "value")?,
        signed_pre_key_signature,
        pre_key,
    })
}

fn id3(id: u32) -> Vec<u8> {
    id.to_be_bytes()[1..].to_vec()
}

/// The key nodes of a bundle (`<type>`, `<identity>`, `[<key>]`, `<skey>`), as a retry
/// receipt's `<keys>` and the server's bundle answer carry them.
pub fn key_nodes(bundle: &PreKeyBundle) -> Vec<Node> {
    let mut nodes = vec![
        Node::new("type").with_bytes(vec![DJB_TYPE]),
        Node::new("identity").with_bytes(bundle.identity_key.as_bytes().to_vec()),
    ];
    if let Some((id, value)) = &bundle.pre_key {
        nodes.push(Node::new("key").with_children(vec![
            Node::new("id").with_bytes(id3(*id)),
            Node::new("value").with_bytes(value.as_bytes().to_vec()),
        ]));
    }
    nodes.push(Node::new("skey").with_children(vec![
        Node::new("id").with_bytes(id3(bundle.signed_pre_key_id)),
        Node::new("value").with_bytes(bundle.signed_pre_key.as_bytes().to_vec()),
        Node::new("signature").with_bytes(bundle.signed_pre_key_signature.to_vec()),
    ]));
    nodes
}

/// `<registration>`: the 4-byte big-endian registration id.
pub fn registration_node(registration_id: u32) -> Node {
    Node::new("registration").with_bytes(registration_id.to_be_bytes().to_vec())
}

/// Reads a `<registration>` child.
pub fn parse_registration(parent: &Node, tag: &'static str) -> Result<u32, StanzaError> {
    be_number(parent, tag, "registration")
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::binary::Server;
    use crate::signal::{KeyPair, LocalIdentity, PreKeyRecord, SignedPreKeyRecord};

    fn bundle(one_time: bool) -> PreKeyBundle {
        let mut rng = StdRng::seed_from_u64(3);
        let identity = LocalIdentity {
            key_pair: KeyPair::generate(&mut rng),
            registration_id: 0x0102_0304,
        };
        let signed = SignedPreKeyRecord::generate(0x00_0a0b, &identity.key_pair, &mut rng);
        let otk = PreKeyRecord::generate(0x01_0203, &mut rng);
        PreKeyBundle::from_local(&identity, &signed, one_time.then_some(&otk))
    }

    fn answer(users: Vec<Node>) -> Node {
        Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result")
            .with_children(vec![Node::new("list").with_children(users)])
    }

    #[test]
    fn the_query_names_every_device() {
        let q = BundleQuery {
            devices: vec![
                Jid::with_device("15551234567", 2, Server::Pn),
                Jid::new("15551234567", Server::Pn),
            ],
            rebuild: true,
        }
        .build();
        assert_eq!(q.attr_str("xmlns"), Some("encrypt"));
        assert_eq!(q.attr_str("type"), Some("get"));
        assert!(q.attr("id").is_none());
        let users: Vec<_> = q.child("key").unwrap().children().to_vec();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].attr_str("reason"), Some("identity"));
    }

    #[test]
    fn bundles_read_back_with_and_without_a_one_time_prekey_and_wrapped_keys() {
        for one_time in [true, false] {
            let b = bundle(one_time);
            let device = Jid::with_device("15551234567", 2, Server::Pn);
            let mut children = vec![registration_node(b.registration_id)];
            children.extend(key_nodes(&b));
            let flat = Node::new("user")
                .with_attr("jid", device.clone())
                .with_children(children);
            let wrapped = Node::new("user")
                .with_attr("jid", device.clone())
                .with_children(vec![
                    registration_node(b.registration_id),
                    Node::new("keys").with_children(key_nodes(&b)),
                ]);
            let got = BundleQuery::parse(&answer(vec![flat, wrapped])).unwrap();
            assert_eq!(got.len(), 2);
            for d in got {
                assert_eq!(d.device, device);
                let read = d.bundle.unwrap();
                assert_eq!(read, b);
                read.verify_signature().unwrap();
            }
        }
    }

    #[test]
    fn errors_are_per_device_and_bad_shapes_are_typed() {
        let unknown = Node::new("user")
            .with_attr("jid", Jid::with_device("1", 9, Server::Pn))
            .with_children(vec![Node::new("error")
                .with_attr("code", "404")
                .with_attr("text", "item-not-found")]);
        let b = bundle(true);
        let mut short = key_nodes(&b);
        short[1] = Node::new("identity").with_bytes(vec![1, 2, 3]);
        let mut children = vec![registration_node(1)];
        children.extend(short);
        let broken = Node::new("user")
            .with_attr("jid", Jid::new("2", Server::Pn))
            .with_children(children);
        let got = BundleQuery::parse(&answer(vec![unknown, broken])).unwrap();
        assert_eq!(
            got[0].bundle,
            Err(BundleError::Server {
                code: 404,
                text: "item-not-found".into()
            })
        );
        assert!(matches!(
            got[1].bundle,
            Err(BundleError::Shape(StanzaError::ContentLength {
                tag: "identity",
                ..
            }))
        ));
        let no_list = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result");
        assert!(BundleQuery::parse(&no_list).is_err());
    }
}

//! Property tests: any tree we can build survives encode → decode, and no input makes the
//! decoder panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use wa_core::binary::{self, Attr, AttrValue, Content, Jid, Node, Server};

/// Tokens from several dictionaries, so single- and double-byte forms both appear.
const TOKENS: &[&str] = &[
    "iq",
    "id",
    "type",
    "to",
    "from",
    "message",
    "receipt",
    "ack",
    "enc",
    "s.whatsapp.net",
    "xmlns",
    "w:p",
    "get",
    "set",
    "result",
    "active",
    "passive",
    "conflict",
    "replaced",
    "ref",
    "pair-device",
    "offline_batch",
    "failure",
    "keys",
    "0",
    "1",
    "100",
    "1080",
];

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(TOKENS).prop_map(str::to_owned),
        "[0-9.-]{1,127}",
        "[0-9A-F]{1,127}",
        "[0-9a-f]{1,40}",
        "[0-9]{128,260}",
        ".{0,40}",
        Just(String::new()),
        "[a-z@:.]{1,20}",
    ]
}

fn jid_user() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[0-9]{1,20}", any_string()]
}

fn any_jid() -> impl Strategy<Value = Jid> {
    let simple_server = prop_oneof![
        Just(Server::Pn),
        Just(Server::Lid),
        Just(Server::Group),
        Just(Server::Broadcast),
        Just(Server::Hosted),
        Just(Server::HostedLid),
        Just(Server::Call),
        Just(Server::Newsletter),
        Just(Server::LegacyUser),
        Just(Server::Bot),
        "[a-z][a-z.]{0,12}".prop_map(|s| Server::from_wire(&s)),
    ];
    prop_oneof![
        (jid_user(), simple_server).prop_map(|(u, s)| Jid::new(u, s)),
        (
            jid_user(),
            0u16..=255,
            prop_oneof![Just(Server::Pn), Just(Server::Lid)]
        )
            .prop_map(|(u, d, s)| Jid::with_device(u, d, s)),
        (
            jid_user(),
            0u16..=255,
            prop_oneof![Just(Server::Hosted), Just(Server::HostedLid)]
        )
            .prop_map(|(u, d, s)| Jid::with_device(u, d, s)),
        (jid_user(), 2u8..=127, 0u16..=255).prop_map(|(u, a, d)| {
            let mut j = Jid::with_device(u, d, Server::Pn);
            j.agent = a;
            j
        }),
        (jid_user(), any::<u16>()).prop_map(|(u, d)| Jid::with_device(u, d, Server::Messenger)),
        (jid_user(), any::<u16>(), any::<u16>()).prop_map(|(u, d, i)| {
            let mut j = Jid::with_device(u, d, Server::Interop);
            j.integrator = i;
            j
        }),
    ]
}

fn any_attr() -> impl Strategy<Value = Attr> {
    let value = prop_oneof![
        3 => any_string().prop_map(AttrValue::from),
        1 => any_jid().prop_map(AttrValue::Jid),
    ];
    (any_string(), value).prop_map(|(k, value)| Attr {
        key: k.into(),
        value,
    })
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..300),
        // Large contents exercise BINARY_20; their byte values matter less than their length.
        1 => (256usize..70_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
}

fn leaf() -> impl Strategy<Value = Node> {
    let tag = any_string().prop_filter("tags are not empty", |t| !t.is_empty());
    let content = prop_oneof![
        2 => Just(Content::None),
        2 => any_bytes().prop_map(|b| Content::Bytes(b.into())),
        1 => Just(Content::Nodes(Vec::new())),
    ];
    (tag, prop::collection::vec(any_attr(), 0..6), content).prop_map(|(tag, attrs, content)| Node {
        tag: tag.into(),
        attrs,
        content,
    })
}

fn any_node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        (leaf(), prop::collection::vec(inner, 0..8)).prop_map(|(mut n, children)| {
            n.content = Content::Nodes(children);
            n
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(node in any_node()) {
        let bytes = binary::encode(&node).unwrap();
        prop_assert_eq!(bytes[0], 0);
        let back = binary::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &node);
        prop_assert_eq!(&binary::decode_shared(bytes.clone().into()).unwrap(), &node);
        let mut inflated = Vec::new();
        prop_assert_eq!(&binary::view(&bytes, &mut inflated).unwrap().to_node(), &node);
        prop_assert_eq!(binary::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn jid_text_round_trips(jid in any_jid()) {
        // Text is lossless for the users the server sends: digits only.
        let jid = Jid { user: jid.user.chars().filter(char::is_ascii_digit).collect(), ..jid };
        let text = jid.to_string();
        prop_assert_eq!(text.parse::<Jid>().unwrap(), jid);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(node) = binary::decode(&bytes) {
            let again = binary::encode(&node).unwrap();
            prop_assert_eq!(binary::decode(&again).unwrap(), node);
        }
    }

    #[test]
    fn decode_never_panics_on_mutated_nodes(
        node in any_node(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = binary::encode(&node).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(1 + cut.index(bytes.len()));
        if let Ok(node) = binary::decode(&bytes) {
            let again = binary::encode(&node).unwrap();
            prop_assert_eq!(binary::decode(&again).unwrap(), node);
        }
    }
}

//! The worked examples of protocol.md §4.5 (`tests/vectors/binary-nodes.json`): byte-exact
//! encoding where the bytes are plain, decoding to the same tree for all of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wa_core::binary::{self, AttrValue, Content, Jid, Node, Server};

fn vectors() -> Vec<serde_json::Value> {
    let text = include_str!("vectors/binary-nodes.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["examples"].as_array().unwrap().clone()
}

fn pn_server() -> Jid {
    Jid::server_jid(Server::Pn)
}

/// The trees the examples describe, in file order; `None` for the captured `<success>`, which
/// is checked separately.
fn expected_trees() -> Vec<Node> {
    let ping = Node::new("iq")
        .with_attr("id", "1.2-3")
        .with_attr("xmlns", "w:p")
        .with_attr("type", "get")
        .with_attr("to", pn_server());
    vec![
        ping.clone(),
        ping.clone().with_children(vec![Node::new("ping")]),
        Node::new("presence").with_attr("to", Jid::new("15551234567", Server::Pn)),
        Node::new("presence").with_attr("to", Jid::with_device("15551234567", 3, Server::Pn)),
        Node::new("presence").with_attr("to", Jid::with_device("123456789012345", 7, Server::Lid)),
        Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", "msg")
            .with_bytes(vec![0xde, 0xad, 0xbe, 0xef]),
        Node::new("iq")
            .with_attr("id", "1.2-4")
            .with_attr("to", pn_server())
            .with_attr("xmlns", "passive")
            .with_attr("type", "set")
            .with_children(vec![Node::new("active")]),
        Node::new("message")
            .with_attr("id", "3EB0ABCDEF0123456789AB")
            .with_attr("type", "text"),
        Node::new("presence")
            .with_attr("type", "available")
            .with_attr("name", "Ann"),
        ping,
    ]
}

#[test]
fn worked_examples_encode_and_decode() {
    let examples = vectors();
    let trees = expected_trees();
    assert_eq!(examples.len(), trees.len() + 1);
    for (ex, tree) in examples.iter().zip(&trees) {
        let name = ex["name"].as_str().unwrap();
        let bytes = hex::decode(ex["hex"].as_str().unwrap()).unwrap();
        assert_eq!(&binary::decode(&bytes).unwrap(), tree, "decode: {name}");
        if bytes[0] == 0 {
            assert_eq!(binary::encode(tree).unwrap(), bytes, "encode: {name}");
        } else {
            assert!(name.contains("decode only"), "{name}");
        }
    }
}

#[test]
fn captured_success_decodes() {
    let ex = vectors()
        .into_iter()
        .find(|e| e.get("body_hex").is_some())
        .unwrap();
    let body = hex::decode(ex["body_hex"].as_str().unwrap()).unwrap();
    let node = binary::decode_body(&body, &Default::default()).unwrap();
    assert_eq!(node.tag, "success");
    let expect = [
        ("t", "1752021890"),
        ("props", "27"),
        ("location", "frc"),
        ("abprops", "10"),
        ("creation", "1752020041"),
        (
            "companion_enc_static",
            "d5Yb5WxL+k5UKQHVI6buFRGQEj0GZA5evz8b6V2xkdw=",
        ),
    ];
    for (k, v) in expect {
        assert_eq!(node.attr_str(k), Some(v), "{k}");
    }
    let lid = node.attr_jid("lid").unwrap();
    assert_eq!(lid, &Jid::with_device("100000000000001", 42, Server::Lid));
    assert_eq!(lid.to_string(), "100000000000001:42@lid");
    assert_eq!(node.attrs.len(), 7);
    assert_eq!(node.content, Content::None);
    // Our encoder reproduces the captured bytes exactly: same attribute order, same forms.
    let mut again = Vec::new();
    binary::encode_body_into(&node, &mut again).unwrap();
    assert_eq!(again, body);
    assert!(matches!(node.attr("lid"), Some(AttrValue::Jid(_))));
}

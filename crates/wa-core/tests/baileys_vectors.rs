//! Our codec against nodes encoded and decoded by Baileys (`tests/vectors/baileys-nodes.json`,
//! made by `conformance/gen-baileys-vectors.mjs`), without needing Node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use wa_core::binary::{self, Attr, AttrValue, Content, Node};

fn vectors() -> Vec<Value> {
    let v: Value = serde_json::from_str(include_str!("vectors/baileys-nodes.json")).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

/// A vector tree as a node, reading attribute text the way Baileys encodes it.
fn tree_to_node(t: &Value) -> Node {
    let attrs = t["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| Attr {
            key: pair[0].as_str().unwrap().to_owned().into(),
            value: AttrValue::from_text(pair[1].as_str().unwrap()),
        })
        .collect();
    let c = &t["content"];
    let content = if c.is_null() {
        Content::None
    } else if let Some(children) = c.as_array() {
        Content::Nodes(children.iter().map(tree_to_node).collect())
    } else if let Some(b64) = c.get("b64") {
        Content::Bytes(BASE64.decode(b64.as_str().unwrap()).unwrap().into())
    } else {
        Content::Bytes(c["text"].as_str().unwrap().as_bytes().to_vec().into())
    };
    Node {
        tag: t["tag"].as_str().unwrap().to_owned().into(),
        attrs,
        content,
    }
}

/// Our decoded node in Baileys' terms: Baileys drops a raw agent when it decodes an `AD_JID`.
fn as_baileys_sees_it(node: &Node) -> Node {
    let attrs = node
        .attrs
        .iter()
        .map(|a| {
            let value = match &a.value {
                AttrValue::Jid(j) if j.agent != 0 => AttrValue::Jid(wa_core::binary::Jid {
                    agent: 0,
                    ..j.clone()
                }),
                v => v.clone(),
            };
            Attr {
                key: a.key.clone(),
                value,
            }
        })
        .collect();
    let content = match &node.content {
        Content::Nodes(children) => {
            Content::Nodes(children.iter().map(as_baileys_sees_it).collect())
        }
        other => other.clone(),
    };
    Node {
        tag: node.tag.clone(),
        attrs,
        content,
    }
}

#[test]
fn decodes_baileys_bytes_to_baileys_trees() {
    let vectors = vectors();
    assert!(vectors.len() >= 300);
    let mut agents = 0;
    for (i, v) in vectors.iter().enumerate() {
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let ours = binary::decode(&bytes).unwrap_or_else(|e| panic!("vector {i}: {e}"));
        let seen = as_baileys_sees_it(&ours);
        agents += usize::from(seen != ours);
        assert_eq!(seen, tree_to_node(&v["tree"]), "vector {i}");
    }
    assert!(agents > 0, "no vector carried a raw agent");
}

#[test]
fn encodes_baileys_trees_like_baileys() {
    let mut exact = 0;
    for (i, v) in vectors().iter().enumerate() {
        let node = tree_to_node(&v["tree"]);
        let ours = binary::encode(&node).unwrap_or_else(|e| panic!("vector {i}: {e}"));
        let theirs = hex::decode(v["reencoded_hex"].as_str().unwrap()).unwrap();
        if v["byte_exact"].as_bool().unwrap() {
            assert_eq!(hex::encode(&ours), hex::encode(&theirs), "vector {i}");
            exact += 1;
        }
        // Where the bytes may differ, both must still mean the same tree.
        assert_eq!(
            binary::decode(&ours).unwrap(),
            binary::decode(&theirs).unwrap(),
            "vector {i}"
        );
    }
    assert!(exact >= 200, "only {exact} byte-exact vectors");
}

/// The borrowed view reads the same bytes to the same tree, and its lookups find what the
/// tree holds.
#[test]
fn views_baileys_bytes_as_baileys_trees() {
    for (i, v) in vectors().iter().enumerate() {
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let owned = binary::decode(&bytes).unwrap();
        let mut inflated = Vec::new();
        let view =
            binary::view(&bytes, &mut inflated).unwrap_or_else(|e| panic!("vector {i}: {e}"));
        assert_eq!(view.to_node(), owned, "vector {i}");
        assert_eq!(
            as_baileys_sees_it(&view.to_node()),
            tree_to_node(&v["tree"]),
            "vector {i}"
        );
        check_lookups(&view, &owned, i);
    }
}

fn check_lookups(view: &binary::NodeRef<'_>, owned: &Node, i: usize) {
    assert!(view.tag() == owned.tag.as_ref(), "vector {i}");
    for a in &owned.attrs {
        let found = view.attr(&a.key).map(|v| v.to_attr_value());
        assert_eq!(found.as_ref(), owned.attr(&a.key), "vector {i}: {}", a.key);
        if let Some(s) = owned.attr_str(&a.key) {
            assert!(view.attr_str(&a.key).is_some_and(|v| v == s), "vector {i}");
        }
    }
    assert!(view.attr("no-such-attribute").is_none());
    let children: Vec<_> = view.children().collect();
    assert_eq!(children.len(), owned.children().len(), "vector {i}");
    for (c, o) in children.iter().zip(owned.children()) {
        assert!(view.child(&o.tag).is_some());
        check_lookups(c, o, i);
    }
    match owned.bytes() {
        Some(b) => {
            let value = view.value().unwrap();
            assert_eq!(value.to_bytes(None), b, "vector {i}");
            if let Some(borrowed) = value.as_bytes() {
                assert_eq!(borrowed, b, "vector {i}");
            }
        }
        None => assert!(view.value().is_none(), "vector {i}"),
    }
}

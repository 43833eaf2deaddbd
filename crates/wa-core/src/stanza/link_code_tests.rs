use super::*;
use crate::binary::{decode, encode, Content, Server};

fn wire(node: &Node) -> Node {
    decode(&encode(node).unwrap()).unwrap()
}

fn phone() -> Jid {
    Jid::new("15551234567", Server::Pn)
}

fn hello() -> CompanionHello {
    CompanionHello {
        id: "1.2-3".into(),
        phone: phone(),
        show_push_notification: true,
        wrapped_companion_ephemeral_pub: [7; WRAPPED_EPHEMERAL_LEN],
        companion_server_auth_key_pub: [8; 32],
        platform_id: "1".into(),
        platform_display: "Chrome (Linux)".into(),
    }
}

#[test]
fn companion_hello_round_trips_and_has_the_protocols_shape() {
    let node = wire(&hello().to_node());
    assert_eq!(node.attr_str("xmlns"), Some("md"));
    assert_eq!(node.attr_str("type"), Some("set"));
    let reg = node.child(REG).unwrap();
    assert_eq!(reg.attr_str("stage"), Some("companion_hello"));
    assert_eq!(reg.attr_str("should_show_push_notification"), Some("true"));
    assert_eq!(reg.child(NONCE).unwrap().bytes(), Some(&[0u8][..]));
    assert_eq!(CompanionHello::parse(&node).unwrap(), hello());
}

#[test]
fn companion_hello_checks_lengths_and_stage() {
    let mut short = hello().to_node();
    if let Content::Nodes(c) = &mut short.content {
        if let Content::Nodes(cc) = &mut c[0].content {
            cc[0].content = Content::Bytes(vec![1; 79].into());
        }
    }
    assert_eq!(
        CompanionHello::parse(&short),
        Err(StanzaError::ContentLength {
            tag: WRAPPED_COMPANION_EPHEMERAL_PUB,
            expected: 80,
            got: 79
        })
    );
    let finish = CompanionFinish {
        id: "1".into(),
        phone: phone(),
        wrapped_key_bundle: vec![0; WRAPPED_KEY_BUNDLE_LEN],
        companion_identity_public: [1; 32],
        pairing_ref: b"ref".to_vec(),
    };
    assert!(matches!(
        CompanionHello::parse(&finish.to_node()),
        Err(StanzaError::BadAttr { attr: "stage", .. })
    ));
}

#[test]
fn hello_result_round_trips() {
    let r = CompanionHelloResult {
        id: "1.2-3".into(),
        pairing_ref: b"ABCDEF".to_vec(),
    };
    assert_eq!(CompanionHelloResult::parse(&wire(&r.to_node())).unwrap(), r);
    let empty = Node::new("iq")
        .with_attr("id", "1")
        .with_attr("type", "result")
        .with_children(vec![Node::new(REG)]);
    assert_eq!(
        CompanionHelloResult::parse(&empty),
        Err(StanzaError::MissingChild {
            parent: REG,
            child: PAIRING_REF
        })
    );
}

#[test]
fn primary_hello_round_trips_and_tolerates_a_missing_stage() {
    let p = PrimaryHello {
        id: "n1".into(),
        from: server_jid(),
        pairing_ref: b"ABCDEF".to_vec(),
        wrapped_primary_ephemeral_pub: [3; WRAPPED_EPHEMERAL_LEN],
        primary_identity_pub: [4; 32],
    };
    let mut node = wire(&p.to_node(5));
    assert_eq!(PrimaryHello::parse(&node).unwrap(), p);
    if let Content::Nodes(c) = &mut node.content {
        c[0].attrs.clear();
    }
    assert_eq!(PrimaryHello::parse(&node).unwrap(), p);
    if let Content::Nodes(c) = &mut node.content {
        c[0].attrs.push(crate::binary::Attr {
            key: "stage".into(),
            value: "refresh_code".into(),
        });
    }
    assert!(matches!(
        PrimaryHello::parse(&node),
        Err(StanzaError::BadAttr { attr: "stage", .. })
    ));
}

#[test]
fn companion_finish_round_trips_and_checks_the_bundle_length() {
    let f = CompanionFinish {
        id: "1.2-4".into(),
        phone: phone(),
        wrapped_key_bundle: vec![5; WRAPPED_KEY_BUNDLE_LEN],
        companion_identity_public: [6; 32],
        pairing_ref: b"ABCDEF".to_vec(),
    };
    let node = wire(&f.to_node());
    assert_eq!(
        node.child(REG).unwrap().attr_str("stage"),
        Some("companion_finish")
    );
    assert_eq!(CompanionFinish::parse(&node).unwrap(), f);
    let short = CompanionFinish {
        wrapped_key_bundle: vec![5; 10],
        ..f
    };
    assert!(matches!(
        CompanionFinish::parse(&short.to_node()),
        Err(StanzaError::ContentLength { got: 10, .. })
    ));
}

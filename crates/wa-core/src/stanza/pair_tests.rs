use super::*;
use crate::binary::{decode, encode, Content, Server};

/// Through the wire codec and back, as the other side would see it.
fn wire(node: &Node) -> Node {
    decode(&encode(node).unwrap()).unwrap()
}

#[test]
fn pair_device_round_trips_over_the_wire() {
    let pd = PairDevice {
        id: "1234.5678-1".into(),
        refs: (1..=6).map(|i| format!("2@ref{i}+/=")).collect(),
    };
    assert_eq!(PairDevice::parse(&wire(&pd.to_node())).unwrap(), pd);
}

#[test]
fn pair_device_errors() {
    let ok = PairDevice {
        id: "x".into(),
        refs: vec!["2@a".into()],
    }
    .to_node();
    let mut wrong_type = ok.clone();
    wrong_type.attrs.retain(|a| a.key != "type");
    assert_eq!(
        PairDevice::parse(&wrong_type),
        Err(StanzaError::MissingAttr {
            tag: "iq",
            attr: "type"
        })
    );
    let wrong_type = wrong_type.with_attr("type", "get");
    assert!(matches!(
        PairDevice::parse(&wrong_type),
        Err(StanzaError::BadAttr { attr: "type", .. })
    ));
    let empty = Node::new("iq")
        .with_attr("id", "x")
        .with_attr("type", "set")
        .with_children(vec![Node::new("pair-device").with_children(vec![])]);
    assert_eq!(
        PairDevice::parse(&empty),
        Err(StanzaError::MissingChild {
            parent: "pair-device",
            child: "ref"
        })
    );
    let bad_ref = Node::new("iq")
        .with_attr("id", "x")
        .with_attr("type", "set")
        .with_children(vec![Node::new("pair-device")
            .with_children(vec![Node::new("ref").with_bytes(vec![0xff, 0xfe])])]);
    assert_eq!(
        PairDevice::parse(&bad_ref),
        Err(StanzaError::NotText { tag: "ref" })
    );
    let no_child = Node::new("iq")
        .with_attr("id", "x")
        .with_attr("type", "set");
    assert_eq!(
        PairDevice::parse(&no_child),
        Err(StanzaError::MissingChild {
            parent: "iq",
            child: "pair-device"
        })
    );
    assert!(matches!(
        PairDevice::parse(&Node::new("message")),
        Err(StanzaError::WrongTag { expected: "iq", .. })
    ));
}

#[test]
fn ack_is_an_empty_result_to_the_server() {
    let ack = wire(&iq_result("abc"));
    assert_eq!(ack.tag, "iq");
    assert_eq!(ack.attr_str("type"), Some("result"));
    assert_eq!(ack.attr_str("id"), Some("abc"));
    assert_eq!(ack.attr_jid("to"), Some(&server_jid()));
    assert_eq!(ack.content, Content::None);
}

fn success() -> PairSuccess {
    PairSuccess {
        id: "555".into(),
        device_identity: vec![1, 2, 3, 0, 255],
        jid: Jid::with_device("15551234567", 12, Server::Pn),
        lid: Some(Jid::with_device("123456789012345", 12, Server::Lid)),
        platform: Some("android".into()),
        business_name: Some("Acme".into()),
        client_props: Some(vec![8, 1]),
    }
}

#[test]
fn pair_success_round_trips_with_and_without_options() {
    let full = success();
    assert_eq!(PairSuccess::parse(&wire(&full.to_node())).unwrap(), full);
    let bare = PairSuccess {
        lid: None,
        platform: None,
        business_name: None,
        client_props: None,
        ..success()
    };
    assert_eq!(PairSuccess::parse(&wire(&bare.to_node())).unwrap(), bare);
}

#[test]
fn pair_success_accepts_a_jid_sent_as_text_and_reports_what_is_missing() {
    let node = Node::new("iq")
        .with_attr("id", "1")
        .with_children(vec![Node::new("pair-success").with_children(vec![
            Node::new("device-identity").with_bytes(vec![1]),
            Node::new("device").with_attr("jid", "15551234567:3@s.whatsapp.net"),
        ])]);
    let parsed = PairSuccess::parse(&node).unwrap();
    assert_eq!(parsed.jid, Jid::with_device("15551234567", 3, Server::Pn));

    let strip = |drop: &str| {
        let mut n = node.clone();
        if let Content::Nodes(c) = &mut n.content {
            if let Content::Nodes(cc) = &mut c[0].content {
                cc.retain(|x| x.tag != drop);
            }
        }
        PairSuccess::parse(&n)
    };
    assert_eq!(
        strip("device-identity"),
        Err(StanzaError::MissingChild {
            parent: "pair-success",
            child: "device-identity"
        })
    );
    assert_eq!(
        strip("device"),
        Err(StanzaError::MissingChild {
            parent: "pair-success",
            child: "device"
        })
    );
    let bad_jid = Node::new("iq")
        .with_attr("id", "1")
        .with_children(vec![Node::new("pair-success").with_children(vec![
            Node::new("device-identity").with_bytes(vec![1]),
            Node::new("device").with_attr("jid", "not a jid"),
        ])]);
    assert!(matches!(
        PairSuccess::parse(&bad_jid),
        Err(StanzaError::BadAttr {
            tag: "device",
            attr: "jid",
            ..
        })
    ));
    let children_not_bytes = Node::new("iq")
        .with_attr("id", "1")
        .with_children(vec![Node::new("pair-success").with_children(vec![
            Node::new("device-identity").with_children(vec![]),
        ])]);
    assert_eq!(
        PairSuccess::parse(&children_not_bytes),
        Err(StanzaError::NotBytes {
            tag: "device-identity"
        })
    );
}

#[test]
fn pair_device_sign_round_trips_and_has_the_protocols_shape() {
    let sign = PairDeviceSign {
        id: "555".into(),
        key_index: 42,
        device_identity: vec![9; 100],
    };
    let node = wire(&sign.to_node());
    assert_eq!(node.attr_str("type"), Some("result"));
    assert_eq!(node.attr_jid("to"), Some(&server_jid()));
    let identity = node
        .child("pair-device-sign")
        .unwrap()
        .child("device-identity")
        .unwrap();
    assert_eq!(identity.attr_str("key-index"), Some("42"));
    assert_eq!(PairDeviceSign::parse(&node).unwrap(), sign);

    let mut bad = sign.to_node();
    if let Content::Nodes(c) = &mut bad.content {
        if let Content::Nodes(cc) = &mut c[0].content {
            cc[0].attrs[0].value = "-1".into();
        }
    }
    assert!(matches!(
        PairDeviceSign::parse(&bad),
        Err(StanzaError::BadAttr {
            attr: "key-index",
            ..
        })
    ));
    assert!(matches!(
        PairDeviceSign::parse(&pair_error_node("1", PairErrorReply::InternalError)),
        Err(StanzaError::BadAttr { attr: "type", .. })
    ));
}

#[test]
fn pair_errors_round_trip() {
    for reply in [
        PairErrorReply::HmacMismatch,
        PairErrorReply::SignatureMismatch,
        PairErrorReply::InternalError,
    ] {
        let node = wire(&pair_error_node("7", reply));
        let error = node.child("error").unwrap();
        assert_eq!(
            error.attr_str("code"),
            Some(reply.code().to_string().as_str())
        );
        assert_eq!(error.attr_str("text"), Some(reply.text()));
        assert_eq!(parse_pair_error(&node).unwrap(), ("7".to_owned(), reply));
    }
    let odd = iq_to_server(
        "error",
        "7",
        vec![Node::new("error")
            .with_attr("code", "500")
            .with_attr("text", "hmac-mismatch")],
    );
    assert!(matches!(
        parse_pair_error(&odd),
        Err(StanzaError::BadAttr { tag: "error", .. })
    ));
}

#[test]
fn companion_reg_refresh_both_kinds() {
    for kind in [
        CompanionRegRefreshKind::RegRefresh,
        CompanionRegRefreshKind::RotateQr,
    ] {
        let n = CompanionRegRefresh {
            id: "99".into(),
            from: server_jid(),
            kind,
        };
        assert_eq!(
            CompanionRegRefresh::parse(&wire(&n.to_node(1_764_000_000))).unwrap(),
            n
        );
    }
    let other = Node::new("notification")
        .with_attr("type", "companion_reg_refresh")
        .with_attr("id", "1")
        .with_attr("from", server_jid())
        .with_children(vec![Node::new("something-else")]);
    assert!(matches!(
        CompanionRegRefresh::parse(&other),
        Err(StanzaError::MissingChild { .. })
    ));
    let wrong = Node::new("notification").with_attr("type", "devices");
    assert!(matches!(
        CompanionRegRefresh::parse(&wrong),
        Err(StanzaError::BadAttr { attr: "type", .. })
    ));
}

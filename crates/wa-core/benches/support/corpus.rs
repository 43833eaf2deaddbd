//! The codec benchmark's nodes: a ping, a receipt, an ack, and messages with 1 KiB and 64 KiB of
//! ciphertext. `conformance/bench-codec.mjs` builds the same nodes for Baileys.

use wa_core::binary::{Jid, Node, Server};

const MSG_ID: &str = "3EB0ABCDEF0123456789AB";

fn peer() -> Jid {
    Jid::new("15551234567", Server::Pn)
}

fn message(size: usize) -> Node {
    let ciphertext: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    Node::new("message")
        .with_attr("id", MSG_ID)
        .with_attr("to", peer())
        .with_attr("type", "text")
        .with_attr("t", "1752021890")
        .with_children(vec![
            Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "msg")
                .with_bytes(ciphertext),
            Node::new("device-identity").with_bytes(vec![7u8; 180]),
        ])
}

/// The rows, by name, in table order.
pub fn corpus() -> Vec<(&'static str, Node)> {
    let ping = Node::new("iq")
        .with_attr("id", "1234.5678-9")
        .with_attr("xmlns", "w:p")
        .with_attr("type", "get")
        .with_attr("to", Jid::server_jid(Server::Pn))
        .with_children(vec![Node::new("ping")]);
    let receipt = Node::new("receipt")
        .with_attr("from", Jid::with_device("15551234567", 3, Server::Pn))
        .with_attr("id", MSG_ID)
        .with_attr("t", "1752021890")
        .with_attr("type", "read");
    let ack = Node::new("ack")
        .with_attr("class", "receipt")
        .with_attr("id", MSG_ID)
        .with_attr("to", Jid::with_device("15551234567", 3, Server::Pn))
        .with_attr("type", "read");
    vec![
        ("ping", ping),
        ("receipt", receipt),
        ("ack", ack),
        ("message_1k", message(1024)),
        ("message_64k", message(64 * 1024)),
    ]
}

//! Helpers for messaging tests: a world of contacts, a paired engine, and what each simulated
//! device showed.

use std::time::Duration;

use wa_client::{Outcome, OutgoingMessage, Recipient};
use wa_core::binary::{self, Jid, Server};
use wa_sim::{ContactSpec, SimConfig, Simulator};

use super::{tempdir, Harness};

pub const ADA: &str = "15551110001";
pub const BOB: &str = "15551110002";

pub fn contact(pn: &str, companions: u16) -> ContactSpec {
    ContactSpec {
        pn: Some(pn.to_owned()),
        companions,
        ..ContactSpec::default()
    }
}

pub fn world(contacts: Vec<ContactSpec>) -> Simulator {
    Simulator::new(SimConfig {
        contacts,
        ..SimConfig::default()
    })
    .unwrap()
}

pub async fn online(sim: Simulator, tag: &str) -> Harness {
    let mut h = Harness::start_with(sim, tempdir(tag), |_| {});
    h.pair().await;
    h
}

pub fn user(pn: &str) -> Recipient {
    Recipient::User(Jid::new(pn, Server::Pn))
}

pub fn text(id: &str, to: Recipient, text: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: id.to_owned(),
        to,
        text: text.to_owned(),
    }
}

/// How often `device` of `pn` showed `id`, and how many copies it refused.
pub fn seen(sim: &Simulator, pn: &str, device: u16, id: &str) -> (u32, u32, Vec<String>) {
    sim.received(pn, device)
        .into_iter()
        .find(|s| s.id == id)
        .map_or((0, 0, Vec::new()), |s| (s.shown, s.refused, s.texts))
}

/// The `<enc type>` of each `<to>` in a committed stanza.
pub fn enc_types(stanza: &[u8]) -> Vec<(String, String)> {
    let node = binary::decode(stanza).unwrap();
    node.child("participants")
        .map(|p| {
            p.children()
                .iter()
                .map(|to| {
                    (
                        to.attr("jid").unwrap().to_string(),
                        to.child("enc")
                            .unwrap()
                            .attr_str("type")
                            .unwrap()
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The simulator's connection id of our linked device.
pub fn linked_conn(sim: &Simulator) -> u64 {
    sim.state()
        .connections
        .into_iter()
        .find(|c| c.device.is_some())
        .expect("a linked connection")
        .id
}

pub fn acked(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Acked { .. })
}

/// Lets the simulator's deliveries and receipts run.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

//! The small world-building helpers the relay and receipt suites share.

use wa_core::binary::Jid;
use wa_sim::{ContactSpec, SimConfig, Simulator};

use super::peer::{pn, Peer};
use super::sim_with;

/// A simulator whose world holds these contacts.
pub fn world(contacts: Vec<ContactSpec>) -> Simulator {
    sim_with(SimConfig {
        contacts,
        ..SimConfig::default()
    })
}

/// A contact with a phone and `companions` other devices.
pub fn contact(pn: &str, companions: u16) -> ContactSpec {
    ContactSpec {
        pn: Some(pn.to_owned()),
        companions,
        ..ContactSpec::default()
    }
}

/// Every device of `to` and of our own account but this device.
pub async fn fanout(peer: &mut Peer, to: &Jid) -> Vec<Jid> {
    let own = pn(&peer.user());
    let me = peer.jid.clone();
    peer.devices(&[to.clone(), own])
        .await
        .into_iter()
        .map(|(j, _)| j)
        .filter(|j| *j != me)
        .collect()
}

/// How often a device showed a message, how many copies it refused, and the texts shown.
pub fn shown(sim: &Simulator, pn: &str, device: u16, id: &str) -> (u32, u32, Vec<String>) {
    sim.received(pn, device)
        .into_iter()
        .find(|s| s.id == id)
        .map(|s| (s.shown, s.refused, s.texts))
        .unwrap_or_default()
}

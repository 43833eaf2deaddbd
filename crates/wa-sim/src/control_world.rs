//! The control API of the world: contacts, devices, groups, what each simulated device was
//! shown (the tests' source of truth for "exactly once"), and the simulated phones' actions —
//! read, fail to decrypt, send, issue a privacy token.

use serde::Serialize;
use wa_core::binary::{Jid, Node, Server};

use crate::accounts::{self, ContactView, WorldError};
use crate::control::Simulator;
use crate::relay::deliver::{notification_id, to_real};
use crate::relay::outgoing::{self, Chat, SendError};
use crate::relay::receipts;
use crate::shared::config::ContactSpec;
use crate::shared::faults::lock;
use crate::shared::registry::now_unix;
use crate::shared::world::{Addressing, DeviceAddr, Group, Refusal, Seen, Sent, SimDevice, World};

/// What one simulated device was shown and sent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceMessages {
    /// The device, `number:device@s.whatsapp.net` (`number@…` for the phone).
    pub device: String,
    /// Received message ids in arrival order, with how often each was shown and refused.
    pub received: Vec<Seen>,
    /// What it sent, with who confirmed delivery and reading.
    pub sent: Vec<Sent>,
}

/// `GET /admin/messages`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesView {
    /// Every simulated device.
    pub devices: Vec<DeviceMessages>,
    /// Every message the relay refused, in order.
    pub refused: Vec<Refusal>,
    /// Stanzas waiting for real clients that are offline, by device.
    pub offline_queued: Vec<Queued>,
}

/// A real device's offline queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    /// The device JID.
    pub device: String,
    /// Stanzas waiting.
    pub count: usize,
}

fn sim_device<'w>(
    world: &'w mut World,
    pn: &str,
    device: u16,
) -> Result<&'w mut SimDevice, WorldError> {
    world
        .accounts
        .get_mut(pn)
        .and_then(|a| a.devices.get_mut(&device))
        .ok_or_else(|| WorldError::NoDevice(format!("{pn}:{device}")))
}

impl Simulator {
    /// Adds a contact account (its phone and companions are simulated Signal peers); returns
    /// its phone number.
    pub fn add_contact(&self, spec: &ContactSpec) -> Result<String, WorldError> {
        accounts::add_contact(&mut lock(&self.shared.world), spec)
    }

    /// Adds `n` contacts with default settings; returns their phone numbers.
    pub fn add_contacts(&self, n: usize) -> Result<Vec<String>, WorldError> {
        (0..n)
            .map(|_| self.add_contact(&ContactSpec::default()))
            .collect()
    }

    /// Every account, the linked one included.
    pub fn contacts(&self) -> Vec<ContactView> {
        let store = lock(&self.shared.store);
        accounts::contacts(&lock(&self.shared.world), &store.data)
    }

    /// The linked account's phone number.
    pub fn linked_number(&self) -> String {
        lock(&self.shared.store).data.phone.number.clone()
    }

    /// Everything the simulated devices saw and sent, and what the relay refused.
    pub fn messages(&self) -> MessagesView {
        let world = lock(&self.shared.world);
        let mut devices = Vec::new();
        for account in world.accounts.values() {
            for device in account.devices.values() {
                let jid = Jid::with_device(account.pn.clone(), device.id, Server::Pn);
                devices.push(DeviceMessages {
                    device: jid.to_string(),
                    received: device.log.seen.clone(),
                    sent: device.log.sent.values().cloned().collect(),
                });
            }
        }
        MessagesView {
            devices,
            refused: world.refusals.clone(),
            offline_queued: world
                .offline
                .iter()
                .map(|(d, q)| Queued {
                    device: format!("{}:{}@s.whatsapp.net", d.pn, d.device),
                    count: q.len(),
                })
                .collect(),
        }
    }

    /// What one simulated device received, in arrival order.
    pub fn received(&self, pn: &str, device: u16) -> Vec<Seen> {
        let world = lock(&self.shared.world);
        world
            .accounts
            .get(pn)
            .and_then(|a| a.devices.get(&device))
            .map(|d| d.log.seen.clone())
            .unwrap_or_default()
    }

    /// What one simulated device sent, with the receipts that came back.
    pub fn sent(&self, pn: &str, device: u16) -> Vec<Sent> {
        let world = lock(&self.shared.world);
        world
            .accounts
            .get(pn)
            .and_then(|a| a.devices.get(&device))
            .map(|d| d.log.sent.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The simulated device reads what it was shown (all unread, or `ids`): read receipts go
    /// to the senders. Returns the ids read.
    pub fn read(&self, pn: &str, device: u16, ids: Option<&[String]>) -> Vec<String> {
        let mut world = lock(&self.shared.world);
        receipts::read(&self.shared, &mut world, &DeviceAddr::new(pn, device), ids)
    }

    /// The next `count` messages to this simulated device fail to decrypt: it answers each
    /// with a retry receipt (with `<keys>` from the second on).
    pub fn fail_decrypt(&self, pn: &str, device: u16, count: u32) -> Result<(), WorldError> {
        let mut world = lock(&self.shared.world);
        sim_device(&mut world, pn, device)?.fail_next += count;
        Ok(())
    }

    /// The server hands out no more one-time prekeys of this simulated device: the ones not
    /// yet served are dropped (the device forgets them too), so the next bundle carries the
    /// signed prekey alone, as when a device ran out and has not uploaded more. Returns how
    /// many were dropped.
    pub fn drain_pre_keys(&self, pn: &str, device: u16) -> Result<usize, WorldError> {
        let mut world = lock(&self.shared.world);
        let target = sim_device(&mut world, pn, device)?;
        let dropped = target.unserved.len();
        target.unserved.clear();
        Ok(dropped)
    }

    /// Serves this simulated device's bundle with a broken signed-prekey signature (`broken`),
    /// or with its real one again. A sender must refuse such a bundle for that device alone.
    pub fn break_bundle_signature(
        &self,
        pn: &str,
        device: u16,
        broken: bool,
    ) -> Result<(), WorldError> {
        let mut world = lock(&self.shared.world);
        sim_device(&mut world, pn, device)?.bad_signature = broken;
        Ok(())
    }

    /// The linked account's phone sends its history (the inline initial bootstrap, with the
    /// LID mappings and the contacts' privacy tokens) to the linked account's real device
    /// `device`. Returns the message id.
    pub fn send_history_sync(&self, device: u16) -> Result<String, SendError> {
        let mut store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        let to = DeviceAddr::new(store.data.phone.number.clone(), device);
        let id = crate::history::send(&self.shared, &mut store.data, &mut world, &to)?;
        world.history_synced.insert(to);
        if let Err(e) = store.save() {
            tracing::error!(error = %e, "could not persist used prekeys");
        }
        Ok(id)
    }

    /// A simulated device of a contact (or of the linked account's phone) sends `text` to
    /// `chat`; returns the message id.
    pub fn contact_send(
        &self,
        pn: &str,
        device: u16,
        chat: &Chat,
        text: &str,
    ) -> Result<String, SendError> {
        let mut store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        let id = outgoing::send(
            &self.shared,
            &mut store.data,
            &mut world,
            &DeviceAddr::new(pn, device),
            chat,
            text,
        )?;
        if let Err(e) = store.save() {
            tracing::error!(error = %e, "could not persist used prekeys");
        }
        Ok(id)
    }

    /// Creates a group; `members[0]` is the creator; the linked account is not added unless
    /// listed. Returns the group id.
    pub fn create_group(
        &self,
        subject: &str,
        members: &[String],
        addressing: Addressing,
    ) -> Result<String, WorldError> {
        crate::groups::create(&mut lock(&self.shared.world), subject, members, addressing)
    }

    /// Every group.
    pub fn groups(&self) -> Vec<Group> {
        lock(&self.shared.world).groups.values().cloned().collect()
    }

    /// Adds a member (by the group's creator), with the `w:gp2` notification.
    pub fn group_add(&self, group: &str, member: &str) -> Result<(), WorldError> {
        let store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        let actor = world
            .groups
            .get(group)
            .map(|g| g.creator.clone())
            .unwrap_or_default();
        crate::groups::add_member(&self.shared, &store.data, &mut world, group, &actor, member)
    }

    /// Removes a member (by the group's creator), with the `w:gp2` notification.
    pub fn group_remove(&self, group: &str, member: &str) -> Result<(), WorldError> {
        let store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        let actor = world
            .groups
            .get(group)
            .map(|g| g.creator.clone())
            .unwrap_or_default();
        crate::groups::remove_member(&self.shared, &store.data, &mut world, group, &actor, member)
    }

    /// Adds a simulated companion to an account, with the `devices` notification; returns
    /// its device number.
    pub fn add_device(&self, pn: &str) -> Result<u16, WorldError> {
        let store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        accounts::add_device(&self.shared, &store.data, &mut world, pn)
    }

    /// Removes a simulated companion, with the `devices` notification.
    pub fn remove_device(&self, pn: &str, device: u16) -> Result<(), WorldError> {
        let store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        accounts::remove_device(&self.shared, &store.data, &mut world, pn, device)
    }

    /// The contact issues its privacy token to the linked account: a `privacy_token`
    /// notification to every real device of the linked account. Returns the token.
    pub fn issue_privacy_token(&self, pn: &str) -> Result<Vec<u8>, WorldError> {
        let store = lock(&self.shared.store);
        let mut world = lock(&self.shared.world);
        let linked = store.data.phone.number.clone();
        let account = world
            .accounts
            .get_mut(pn)
            .ok_or_else(|| WorldError::NoAccount(pn.to_owned()))?;
        let mut token = vec![0u8; 24];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut token);
        account.issued_token = Some(token.clone());
        let from = account.user_jid(account.addressing);
        let t = now_unix().to_string();
        let node = Node::new("notification")
            .with_attr("from", from)
            .with_attr("t", t.clone())
            .with_attr("type", "privacy_token")
            .with_children(vec![Node::new("tokens").with_children(vec![Node::new(
                "token",
            )
            .with_attr("t", t)
            .with_attr("type", "trusted_contact")
            .with_bytes(token.clone())])]);
        let targets: Vec<DeviceAddr> = accounts::real_devices(&world, &store.data, None)
            .into_iter()
            .filter(|d| d.pn == linked)
            .collect();
        for device in targets {
            to_real(
                &self.shared,
                &mut world,
                &device,
                node.clone().with_attr("id", notification_id()),
            );
        }
        Ok(token)
    }
}

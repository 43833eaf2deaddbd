//! Demo mode's phones: a contact whose autopilot is on reads what a real client sent it after
//! a human-like delay and now and then replies, so a person trying Herald sees a message go
//! sent → delivered → read, and an answer come back.

use crate::relay::deliver::SimCopy;
use crate::relay::outgoing::{self, Chat};
use crate::relay::receipts;
use crate::shared::faults::lock;
use crate::shared::world::{DeviceAddr, World};
use crate::shared::Shared;

/// Called after a simulated device got a message from a real client.
pub(crate) fn after_delivery(
    shared: &Shared,
    world: &mut World,
    target: &DeviceAddr,
    copy: &SimCopy<'_>,
) {
    // The phone acts for the account; companions only confirm delivery.
    if target.device != 0 || copy.sender.pn == target.pn {
        return;
    }
    let Some(account) = world.accounts.get_mut(&target.pn) else {
        return;
    };
    let Some(delay) = account.autopilot.read_after else {
        return;
    };
    let shown = account
        .devices
        .get(&0)
        .and_then(|d| d.log.seen.iter().find(|s| s.id == copy.id))
        .is_some_and(|s| s.shown > 0 && !s.read);
    if !shown {
        return;
    }
    account.received += 1;
    let pilot = &account.autopilot;
    let reply = (pilot.reply_every > 0
        && account.received % pilot.reply_every == 0
        && !pilot.replies.is_empty())
    .then(|| {
        let n = usize::try_from(account.replies_sent).unwrap_or(0) % pilot.replies.len();
        pilot.replies[n].clone()
    });
    if reply.is_some() {
        account.replies_sent += 1;
    }
    let chat = match copy.group {
        Some(group) => Chat::Group(group.to_owned()),
        None => Chat::Direct(copy.sender.pn.clone()),
    };
    let Some(shared) = shared.this.upgrade() else {
        return;
    };
    let id = copy.id.to_owned();
    let reader = target.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let mut store = lock(&shared.store);
        let mut world = lock(&shared.world);
        receipts::read(&shared, &mut world, &reader, Some(&[id]));
        if let Some(text) = reply {
            if let Err(e) =
                outgoing::send(&shared, &mut store.data, &mut world, &reader, &chat, &text)
            {
                tracing::warn!(error = %e, "the demo contact could not reply");
            }
        }
    });
}

//! Notifications that change what the next send does (messaging.md §8): a user's devices
//! changed, a group's members changed (a member who left must not read what follows, so our
//! sender key is replaced), a contact's privacy token arrived.

use wa_core::binary::Node;
use wa_core::stanza::notification::Notification;

use super::context::{address, Ctx};
use super::devices::forget_devices;
use super::types::SendError;

/// Acts on a notification (its ack was sent by the socket already).
pub(crate) fn on_notification(ctx: &Ctx, node: &Node) {
    let parsed = match Notification::parse(node) {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!(error = %e, "unreadable notification; acked only");
            return;
        }
    };
    let result = match parsed {
        Notification::Devices { user, .. } => {
            tracing::info!(user = %user, "device list changed");
            forget_devices(ctx, &[user]);
            Ok(())
        }
        Notification::GroupMembers {
            group,
            added,
            removed,
        } => {
            tracing::info!(group = %group, added = added.len(), removed = removed.len(), "group members changed");
            ctx.caches().groups.remove(&group.to_string());
            if removed.is_empty() {
                Ok(())
            } else {
                rotate_sender_key(ctx, &group.to_string())
            }
        }
        Notification::PrivacyTokens { from, tokens } => {
            let jid = from.to_string();
            ctx.store().signal_transaction(ctx.now_ms(), |tx| {
                for (t, token) in &tokens {
                    tx.put_privacy_token(&jid, token, *t)?;
                }
                Ok::<_, SendError>(())
            })
        }
        Notification::Other { .. } => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not apply a notification");
    }
}

/// Drops our sender key of `group` (in both namespaces): the next send makes a new one and
/// gives it only to the current members.
fn rotate_sender_key(ctx: &Ctx, group: &str) -> Result<(), SendError> {
    let mut own = vec![address(&ctx.me.pn)];
    own.extend(ctx.me.lid.as_ref().map(address));
    ctx.store().signal_transaction(ctx.now_ms(), |tx| {
        for o in &own {
            tx.drop_sender_key(group, o)?;
        }
        Ok::<_, SendError>(())
    })
}

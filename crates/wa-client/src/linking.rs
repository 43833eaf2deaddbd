//! The pairing sub-machine's steps carried out on a live connection: acking `pair-device`,
//! showing QR codes and pairing codes, storing what pairing produces before answering, and
//! running the IQs of a code pairing as connection tasks so the session loop never waits on
//! them.

use rand::RngCore;
use tokio::time::Instant;
use wa_core::binary::Node;
use wa_core::disconnect::CloseReason;
use wa_core::pair::adv::PairErrorReply;
use wa_core::stanza::link_code::PrimaryHello;
use wa_core::stanza::pair::{iq_result, pair_error_node, PairDevice, PairSuccess};

use crate::conn::{Conn, TaskDone};
use crate::ctx::Ctx;
use crate::events::{ConnectionState, EngineEvent};
use crate::pairing::{self, CodeRequest, Expired, FinishError, Finished, IssuedCode, NotTaken};
use crate::pairing::{Pairing, QrToShow};
use crate::pending::{CodeReply, Pending, PendingPhone};
use crate::CommandError;

/// Shows a QR code: the code itself, then the state that holds it.
fn show_qr(ctx: &Ctx, conn: &Conn, qr: QrToShow) {
    let text = pairing::qr_text(&qr, conn.creds(), ctx.config().client_type);
    tracing::info!(index = qr.index, total = qr.total, "showing QR code");
    ctx.out().emit(EngineEvent::Qr {
        qr: text.clone(),
        expires_at_ms: qr.expires_at_ms,
        index: qr.index,
        total: qr.total,
    });
    ctx.out().set_state(ConnectionState::Pairing {
        qr: text,
        expires_at_ms: qr.expires_at_ms,
        index: qr.index,
        total: qr.total,
    });
}

/// `<pair-device>`: ack it and show the first code (or start the waiting phone pairing).
pub(crate) async fn on_pair_device(ctx: &Ctx, pending: &mut Pending, conn: &mut Conn, node: &Node) {
    let pd = match PairDevice::parse(node) {
        Ok(pd) => pd,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable pair-device");
            return;
        }
    };
    let _ = conn.handle().send(iq_result(&pd.id)).await;
    let pairing = Pairing::new(pd.refs, ctx.config().qr, Instant::now(), ctx.now());
    let first = pairing.qr();
    conn.start_pairing(pairing);
    match (pending.take_phone(), first) {
        (Some(phone), _) => spawn_phone_pairing(ctx, conn, phone),
        (None, Some(qr)) => show_qr(ctx, conn, qr),
        (None, None) => tracing::warn!("pair-device without refs"),
    }
}

/// The shown code (or the pairing code) expired: the next ref, or the end.
pub(crate) fn on_deadline(ctx: &Ctx, conn: &mut Conn) -> Option<CloseReason> {
    let now = ctx.now();
    let pairing = conn.pairing_mut()?;
    match pairing.on_deadline(now) {
        Expired::Show(qr) => {
            show_qr(ctx, conn, qr);
            None
        }
        Expired::Exhausted => Some(CloseReason::QrExhausted),
    }
}

/// `companion_reg_refresh`: a new ADV secret, and the current code shown again with it.
pub(crate) fn on_reg_refresh(ctx: &Ctx, conn: &mut Conn) {
    let Some(pairing) = conn.pairing_mut() else {
        tracing::debug!("companion_reg_refresh outside pairing; ignored");
        return;
    };
    let Some(qr) = pairing.qr() else {
        // A phone-number pairing derives its own secret; the refresh is not for it.
        tracing::info!("companion_reg_refresh during a pairing code; kept the code's secret");
        return;
    };
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    if let Err(e) = ctx.save_adv_secret(&secret) {
        tracing::error!(error = %e, "could not store the rotated ADV secret; keeping the old one");
        return;
    }
    conn.set_adv_secret(secret);
    tracing::info!("ADV secret rotated (companion_reg_refresh); QR shown again");
    show_qr(ctx, conn, qr);
}

/// `pair-success`: verify, persist, answer; or answer with the error the check calls for.
pub(crate) async fn on_pair_success(ctx: &Ctx, conn: &mut Conn, node: &Node) {
    let ps = match PairSuccess::parse(node) {
        Ok(ps) => ps,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable pair-success");
            if let Some(id) = node.attr_str("id") {
                let reply = pair_error_node(id, PairErrorReply::InternalError);
                let _ = conn.handle().send(reply).await;
            }
            return;
        }
    };
    let accepted = match pairing::accept_pair_success(&ps, conn.creds(), ctx.now_ms()) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, reply = e.reply().text(), "pair-success refused");
            let _ = conn.handle().send(pair_error_node(&ps.id, e.reply())).await;
            return;
        }
    };
    // Stored before answering: once the phone lists us, the keys must survive a crash.
    if let Err(e) = ctx.with_store(|s| s.save_account(&accepted.account)) {
        tracing::error!(error = %e, "could not store the pairing");
        let reply = pair_error_node(&ps.id, PairErrorReply::InternalError);
        let _ = conn.handle().send(reply).await;
        return;
    }
    conn.paired(accepted.account);
    let _ = conn.handle().send(accepted.sign.to_node()).await;
    tracing::info!(jid = %ps.jid, platform = ps.platform.as_deref(), "paired");
    ctx.out().emit(EngineEvent::Paired {
        jid: ps.jid.to_string(),
        lid: ps.lid.as_ref().map(ToString::to_string),
        platform: ps.platform,
        business_name: ps.business_name,
    });
}

/// Asks the server, in a task of the connection, to push a pairing code to the phone of
/// `pending.phone`; [`on_pair_code`] answers the caller when it is issued.
pub(crate) fn spawn_phone_pairing(ctx: &Ctx, conn: &mut Conn, pending: PendingPhone) {
    let PendingPhone { phone, reply } = pending;
    let request = CodeRequest {
        handle: conn.handle().clone(),
        phone,
        noise_pub: *conn.creds().noise.public.as_bytes(),
        platform_id: ctx.config().client_type.as_char().to_string(),
        platform_display: ctx.config().platform_display.clone(),
    };
    conn.spawn(async move {
        let result = request.run().await;
        TaskDone::PairCode { result, reply }
    });
}

/// The server issued a pairing code (or refused): show it and answer the caller.
pub(crate) fn on_pair_code(
    ctx: &Ctx,
    conn: &mut Conn,
    result: Result<IssuedCode, CommandError>,
    reply: CodeReply,
) {
    let issued = match result {
        Ok(issued) => issued,
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    let Some(pairing) = conn.pairing_mut() else {
        let _ = reply.send(Err(CommandError::PairingEnded));
        return;
    };
    let timeout = ctx.config().pair_code_timeout;
    let shown = pairing.code_issued(issued, timeout, Instant::now(), ctx.now());
    tracing::info!("pairing code issued");
    ctx.out().emit(EngineEvent::PairCode {
        code: shown.code.clone(),
        phone: shown.phone,
    });
    ctx.out().set_state(ConnectionState::PairingCode {
        code: shown.code.clone(),
        expires_at_ms: shown.expires_at_ms,
    });
    let _ = reply.send(Ok(shown.code));
}

/// The phone's answer to a pairing code: worked out in a task (it is PBKDF2 again).
pub(crate) fn on_primary_hello(conn: &mut Conn, node: &Node) {
    let hello = match PrimaryHello::parse(node) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable link_code_companion_reg");
            return;
        }
    };
    let Some(pairing) = conn.pairing_mut() else {
        return;
    };
    let code = match pairing.phone_answered(&hello.pairing_ref) {
        Ok(code) => code,
        Err(NotTaken::NoCode) => {
            tracing::warn!("link_code_companion_reg without a pairing code in progress");
            return;
        }
        Err(NotTaken::OtherRef) => {
            tracing::warn!("link_code_companion_reg for another pairing ref; ignored");
            return;
        }
    };
    let creds = conn.creds().clone();
    conn.spawn(
        async move { TaskDone::PhoneAnswered(pairing::finish_code(code, hello, &creds).await) },
    );
}

/// The answer is worked out: store the new secret, then send `companion_finish` and keep
/// waiting for `pair-success`.
pub(crate) fn on_phone_answered(ctx: &Ctx, conn: &mut Conn, result: Result<Finished, FinishError>) {
    let finished = match result {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "pairing code exchange failed");
            return;
        }
    };
    if let Err(e) = ctx.save_adv_secret(&finished.adv_secret) {
        tracing::error!(error = %e, "could not store the pairing code's ADV secret");
        return;
    }
    conn.set_adv_secret(finished.adv_secret);
    let finish_iq = finished.finish_iq(conn.handle().next_id(), conn.creds());
    let handle = conn.handle().clone();
    conn.spawn(async move { TaskDone::CompanionFinished(handle.query(&finish_iq).await) });
}

//! Logging in (protocol.md §3.3, §6): the registration or login `ClientPayload`, `<success>`,
//! and the upkeep after it — prekeys, the `active` IQ, and presence (`unavailable` by default,
//! so the phone keeps its notifications).

use wa_core::binary::Node;
use wa_core::payload::{
    login_payload, registration_payload, AppVersion, LoginIdentity, RegistrationKeys,
};
use wa_core::proto::ClientPayload;

use crate::config::EngineConfig;
use crate::conn::{Conn, Phase, TaskDone};
use crate::ctx::Ctx;
use crate::episode::Episode;
use crate::events::ConnectionState;
use crate::keepalive;
use crate::prekeys;
use crate::stanzas;
use crate::store::Credentials;

/// Why the stored session cannot make a login or registration payload.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PayloadBuildError {
    /// The stored account's JID has no phone number as its user part.
    #[error("own JID {0} has no phone number")]
    OwnJid(String),
    /// The stored keys do not make a valid registration.
    #[error("registration payload")]
    Registration(#[source] wa_core::payload::PayloadError),
}

/// The payload for the next handshake: login when paired, registration otherwise, with the
/// resolved WhatsApp Web version.
pub(crate) fn client_payload(
    config: &EngineConfig,
    version: Option<AppVersion>,
    creds: &Credentials,
) -> Result<ClientPayload, PayloadBuildError> {
    let mut client = config.client.clone();
    if let Some(v) = version {
        client.app_version = v;
    }
    match &creds.account {
        Some(account) => {
            let username = account
                .jid
                .user
                .parse()
                .map_err(|_| PayloadBuildError::OwnJid(account.jid.to_string()))?;
            Ok(login_payload(
                &client,
                LoginIdentity {
                    username,
                    device: u32::from(account.jid.device),
                },
            ))
        }
        None => registration_payload(
            &client,
            &RegistrationKeys {
                registration_id: creds.registration_id,
                identity: &creds.identity.public,
                signed_pre_key_id: creds.signed_prekey.id,
                signed_pre_key: &creds.signed_prekey.key.public,
                signed_pre_key_signature: &creds.signed_prekey.signature,
            },
        )
        .map_err(PayloadBuildError::Registration),
    }
}

/// `<success>`: online. Starts keepalive and the post-login upkeep.
pub(crate) fn on_success(ctx: &Ctx, episode: &mut Episode, conn: &mut Conn, node: &Node) {
    if !matches!(conn.phase(), Phase::AwaitingSuccess { .. }) {
        tracing::debug!("ignoring a <success> outside login");
        return;
    }
    conn.online();
    episode.on_login();
    tracing::info!(
        lid = node.attr_str("lid"),
        location = node.attr_str("location"),
        "logged in"
    );
    ctx.out()
        .logged_in_as(conn.account().map(|a| a.jid.to_string()));
    ctx.out().set_state(ConnectionState::Online {
        since_ms: ctx.now(),
    });
    spawn_keepalive(ctx, conn);

    let handle = conn.handle().clone();
    let store = ctx.store().clone();
    let creds = conn.creds().clone();
    let prekey_config = ctx.config().prekeys;
    let presence = ctx.config().presence;
    let push_name = ctx.config().client.push_name.clone();
    let now_ms = ctx.now_ms();
    conn.spawn(async move {
        let uploaded = prekeys::ensure(&handle, &store, &creds, &prekey_config, None, now_ms).await;
        if let Err(e) = handle.query(&stanzas::Active).await {
            tracing::warn!(error = %e, "active iq failed");
        }
        let _ = handle
            .send(stanzas::presence(presence, push_name.as_deref()))
            .await;
        TaskDone::PostLogin(uploaded)
    });
}

fn spawn_keepalive(ctx: &Ctx, conn: &mut Conn) {
    let handle = conn.handle().clone();
    let config = ctx.config().keepalive;
    let reports = conn.keepalive_reports();
    conn.spawn(async move {
        keepalive::run(handle, config, reports).await;
        TaskDone::Keepalive
    });
}

/// `<notification type="encrypt"><count value=N/>`: the server runs low on prekeys.
pub(crate) fn on_encrypt_notification(ctx: &Ctx, conn: &mut Conn, node: &Node) {
    let Some(count) = prekeys::parse_count(node) else {
        return;
    };
    if !conn.is_online() || prekeys::to_upload(count, &ctx.config().prekeys) == 0 {
        return;
    }
    let handle = conn.handle().clone();
    let store = ctx.store().clone();
    let creds = conn.creds().clone();
    let prekey_config = ctx.config().prekeys;
    let now_ms = ctx.now_ms();
    conn.spawn(async move {
        TaskDone::Prekeys(
            prekeys::ensure(&handle, &store, &creds, &prekey_config, Some(count), now_ms).await,
        )
    });
}

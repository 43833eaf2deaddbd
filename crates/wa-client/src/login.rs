//! Logging in (protocol.md §3.3, §6): the registration or login `ClientPayload`, `<success>`,
//! and the upkeep after it — prekeys, the `active` IQ, and presence (`unavailable` by default,
//! so the phone keeps its notifications).

use wa_core::binary::Node;
use wa_core::payload::{login_payload, registration_payload, LoginIdentity, RegistrationKeys};
use wa_core::proto::ClientPayload;

use crate::connection::{Conn, Phase, TaskDone};
use crate::events::ConnectionState;
use crate::prekeys;
use crate::stanzas;
use crate::store::Credentials;
use crate::supervisor::Supervisor;

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

impl Supervisor {
    /// The payload for the next handshake: login when paired, registration otherwise, with
    /// the resolved WhatsApp Web version.
    pub(crate) fn client_payload(
        &self,
        creds: &Credentials,
    ) -> Result<ClientPayload, PayloadBuildError> {
        let mut client = self.config.client.clone();
        if let Some((v, _)) = self.version {
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
    pub(crate) fn on_success(&mut self, conn: &mut Conn, node: &Node) {
        if !matches!(conn.phase, Phase::AwaitingSuccess { .. }) {
            tracing::debug!("ignoring a <success> outside login");
            return;
        }
        conn.phase = Phase::Online;
        conn.online_since = Some(tokio::time::Instant::now());
        // A login that worked ends the episode's version refresh.
        self.classify_ctx = Default::default();
        let since_ms = self.now();
        let jid = conn.creds.account.as_ref().map(|a| a.jid.to_string());
        tracing::info!(
            lid = node.attr_str("lid"),
            location = node.attr_str("location"),
            "logged in"
        );
        self.update_health(|h| h.jid = jid);
        self.set_state(ConnectionState::Online { since_ms });
        self.spawn_keepalive(conn);

        let handle = conn.handle.clone();
        let store = self.store.clone();
        let creds = conn.creds.clone();
        let prekey_config = self.config.prekeys;
        let presence = self.config.presence;
        let push_name = self.config.client.push_name.clone();
        let now_ms = self.now_ms();
        conn.tasks.spawn(async move {
            let uploaded =
                prekeys::ensure(&handle, &store, &creds, &prekey_config, None, now_ms).await;
            if let Err(e) = handle.query(&stanzas::Active).await {
                tracing::warn!(error = %e, "active iq failed");
            }
            let _ = handle
                .send(stanzas::presence(presence, push_name.as_deref()))
                .await;
            TaskDone::PostLogin(uploaded)
        });
    }

    /// `<notification type="encrypt"><count value=N/>`: the server runs low on prekeys.
    pub(crate) fn on_encrypt_notification(&mut self, conn: &mut Conn, node: &Node) {
        let Some(count) = prekeys::parse_count(node) else {
            return;
        };
        if !matches!(conn.phase, Phase::Online)
            || prekeys::to_upload(count, &self.config.prekeys) == 0
        {
            return;
        }
        let handle = conn.handle.clone();
        let store = self.store.clone();
        let creds = conn.creds.clone();
        let prekey_config = self.config.prekeys;
        let now_ms = self.now_ms();
        conn.tasks.spawn(async move {
            TaskDone::Prekeys(
                prekeys::ensure(&handle, &store, &creds, &prekey_config, Some(count), now_ms).await,
            )
        });
    }
}

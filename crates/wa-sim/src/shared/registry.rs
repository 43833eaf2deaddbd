//! Bookkeeping of connections for `GET /admin/state`: the open ones with their state and ping
//! counts, every past one with its outcome, and counters.

use std::collections::{BTreeMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::shared::ConnCommand;

/// Past connections kept for the state view; older ones are forgotten.
const PAST_CONNECTIONS_KEPT: usize = 10_000;

/// Milliseconds since the Unix epoch, for display.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, for `t` attributes and certificates.
pub fn now_unix() -> u64 {
    now_ms() / 1000
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Noise handshake in progress.
    Handshake,
    /// Registered, showing QR codes, not yet paired.
    Pairing,
    /// `pair-success` sent, waiting for `pair-device-sign`.
    PairSigning,
    /// Logged in.
    LoggedIn,
}

/// An open connection as shown in the state view.
#[derive(Debug, Clone, Serialize)]
pub struct ConnInfo {
    /// Connection id.
    pub id: u64,
    /// `ws` or `memory`.
    pub transport: &'static str,
    /// Connect time, Unix ms.
    pub connected_at_ms: u64,
    /// Current phase.
    pub phase: Phase,
    /// The device JID once known.
    pub device: Option<String>,
    /// The app version the client claimed.
    pub app_version: Option<String>,
    /// Pings answered.
    pub pings: u64,
    /// Unix ms of the last ping.
    pub last_ping_at_ms: Option<u64>,
    /// After `<active/>`; false while passive.
    pub active: bool,
    /// The last `<presence type>` the client sent.
    pub presence: Option<String>,
    /// Acks the client owes right now.
    pub acks_owed: usize,
}

/// A closed connection.
#[derive(Debug, Clone, Serialize)]
pub struct PastConn {
    /// Connection id.
    pub id: u64,
    /// `ws` or `memory`.
    pub transport: &'static str,
    /// Unix ms.
    pub connected_at_ms: u64,
    /// Unix ms.
    pub closed_at_ms: u64,
    /// The device JID, if it got that far.
    pub device: Option<String>,
    /// Pings answered.
    pub pings: u64,
    /// How it ended.
    pub outcome: String,
}

/// Totals since start.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Connections accepted.
    pub connections: u64,
    /// Noise handshakes completed.
    pub handshakes: u64,
    /// Registration payloads accepted.
    pub registrations: u64,
    /// Logins accepted.
    pub logins: u64,
    /// Devices paired.
    pub pairings: u64,
    /// `<failure>`s sent.
    pub failures: u64,
    /// `<stream:error>`s sent.
    pub stream_errors: u64,
    /// Pings answered.
    pub pings: u64,
    /// Acks that came too late or never.
    pub acks_missed: u64,
    /// Requests refused for breaking a rule.
    pub rejections: u64,
    /// usync queries asking whether phone numbers are on WhatsApp (`<contact>`).
    pub contact_lookups: u64,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// See [`Counters::handshakes`].
    Handshake,
    /// See [`Counters::registrations`].
    Registration,
    /// See [`Counters::logins`].
    Login,
    /// See [`Counters::pairings`].
    Pairing,
    /// See [`Counters::failures`].
    Failure,
    /// See [`Counters::stream_errors`].
    StreamError,
    /// See [`Counters::acks_missed`].
    AckMissed,
    /// See [`Counters::rejections`].
    Rejection,
    /// See [`Counters::contact_lookups`].
    ContactLookup,
}

pub(crate) struct OpenConn {
    pub(crate) info: ConnInfo,
    pub(crate) commands: mpsc::UnboundedSender<ConnCommand>,
}

/// All connections.
#[derive(Default)]
pub(crate) struct Registry {
    next_id: u64,
    pub(crate) open: BTreeMap<u64, OpenConn>,
    past: VecDeque<PastConn>,
    pub(crate) counters: Counters,
}

impl Registry {
    pub(crate) fn open(
        &mut self,
        transport: &'static str,
        commands: mpsc::UnboundedSender<ConnCommand>,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.counters.connections += 1;
        let info = ConnInfo {
            id,
            transport,
            connected_at_ms: now_ms(),
            phase: Phase::Handshake,
            device: None,
            app_version: None,
            pings: 0,
            last_ping_at_ms: None,
            active: false,
            presence: None,
            acks_owed: 0,
        };
        self.open.insert(id, OpenConn { info, commands });
        id
    }

    pub(crate) fn close(&mut self, id: u64, outcome: String) {
        let Some(conn) = self.open.remove(&id) else {
            return;
        };
        let info = conn.info;
        if self.past.len() >= PAST_CONNECTIONS_KEPT {
            self.past.pop_front();
        }
        self.past.push_back(PastConn {
            id,
            transport: info.transport,
            connected_at_ms: info.connected_at_ms,
            closed_at_ms: now_ms(),
            device: info.device,
            pings: info.pings,
            outcome,
        });
    }

    pub(crate) fn update(&mut self, id: u64, f: impl FnOnce(&mut ConnInfo)) {
        if let Some(conn) = self.open.get_mut(&id) {
            f(&mut conn.info);
        }
    }

    pub(crate) fn count(&mut self, which: Count) {
        let c = &mut self.counters;
        let field = match which {
            Count::Handshake => &mut c.handshakes,
            Count::Registration => &mut c.registrations,
            Count::Login => &mut c.logins,
            Count::Pairing => &mut c.pairings,
            Count::Failure => &mut c.failures,
            Count::StreamError => &mut c.stream_errors,
            Count::AckMissed => &mut c.acks_missed,
            Count::Rejection => &mut c.rejections,
            Count::ContactLookup => &mut c.contact_lookups,
        };
        *field += 1;
    }

    pub(crate) fn ping(&mut self, id: u64) {
        self.counters.pings += 1;
        self.update(id, |info| {
            info.pings += 1;
            info.last_ping_at_ms = Some(now_ms());
        });
    }

    pub(crate) fn past(&self) -> Vec<PastConn> {
        self.past.iter().cloned().collect()
    }

    /// Open connections logged in as `jid`.
    pub(crate) fn logged_in_as(&self, jid: &str) -> Vec<u64> {
        self.open
            .values()
            .filter(|c| c.info.phase == Phase::LoggedIn && c.info.device.as_deref() == Some(jid))
            .map(|c| c.info.id)
            .collect()
    }
}

//! Every duration and identity the simulator uses, with the defaults the real server and the
//! reference clients show (protocol.md §5, §7). All timers run on `tokio::time`, so a test
//! with a paused clock drives them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::shared::world::{Addressing, DuplicateBehaviour};

/// A contact account to create: every field has a default, so `{}` is a valid contact.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ContactSpec {
    /// Phone number, digits only (default: the next free `1555100xxxx`).
    pub pn: Option<String>,
    /// LID user, digits only (default: derived from the phone number).
    pub lid: Option<String>,
    /// Display name (default: `Contact N`).
    pub name: Option<String>,
    /// Companion devices besides the phone (simulated, each a Signal peer).
    pub companions: u16,
    /// Which namespace 1:1 messages to it must use.
    pub addressing: Addressing,
    /// What its devices do with a duplicate.
    pub duplicates: DuplicateBehaviour,
    /// A first message to it needs its privacy token (else ack 463).
    pub token_required: bool,
    /// Read what arrives after this many milliseconds (demo mode); absent: only when told.
    pub read_after_ms: Option<u64>,
    /// Reply to one message in this many (0: never).
    pub reply_every: u32,
    /// The replies, used in turn.
    pub replies: Vec<String>,
}

/// A group to create at start.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GroupSpec {
    /// The subject.
    pub subject: String,
    /// Members by phone number; the first is the creator. The linked account is always added.
    pub participants: Vec<String>,
    /// How members are named on the wire.
    pub addressing: Addressing,
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where `state.json` lives; `None` keeps everything in memory (tests).
    pub state_dir: Option<PathBuf>,
    /// Refs in one `pair-device` (the reference clients' timers assume 6).
    pub ref_count: usize,
    /// How long the first ref can be scanned (clients show it for 60 s).
    pub first_ref_window: Duration,
    /// How long each later ref can be scanned (20 s each).
    pub next_ref_window: Duration,
    /// After the last ref's window the registering connection is closed this much later.
    /// What the real server does there is unverified; the reference clients close first.
    pub close_after_last_ref: Duration,
    /// A message, receipt or notification not acked within this is answered with
    /// `<stream:error><ack/></stream:error>` and a close.
    pub ack_deadline: Duration,
    /// The client must finish the Noise handshake within this.
    pub handshake_timeout: Duration,
    /// The HTTP `/admin/scan` waits this long for the pairing to complete before answering.
    pub scan_wait: Duration,
    /// The phone number of the simulated account (used only when a new state is created).
    pub phone_number: String,
    /// The LID user of the simulated account (used only when a new state is created).
    pub phone_lid: String,
    /// `<platform name>` in `pair-success`.
    pub phone_platform: String,
    /// `location` on `<success>` and `<failure>`: the serving edge.
    pub location: String,
    /// Lifetime of a newly issued intermediate certificate.
    pub intermediate_lifetime: Duration,
    /// Lifetime of a newly issued leaf certificate (its key is the Noise static).
    pub leaf_lifetime: Duration,
    /// Certificates are reissued when they have less than this left.
    pub cert_renew_before: Duration,
    /// PBKDF2 iterations of the pairing-code flow; the client must use the same.
    pub pbkdf2_iterations: u32,
    /// Model the July 2026 behaviour: the first scan of a registration gets a
    /// `companion_reg_refresh` notification instead of `pair-success`, and only a scan of the
    /// re-rendered QR (with a new ADV secret) pairs.
    pub refresh_on_scan: bool,
    /// Most prekeys accepted in one upload (the reference clients' largest batch is 812).
    pub max_pre_keys_per_upload: usize,
    /// Contacts created at start (in memory: they are made anew on every start).
    pub contacts: Vec<ContactSpec>,
    /// Groups created at start, after the contacts.
    pub groups: Vec<GroupSpec>,
    /// The phone sends a companion of the linked account its history (inline, with every
    /// LID mapping and a privacy token per contact) after the companion's first prekey
    /// upload, as a real phone does after linking. Off by default: most tests want a
    /// companion whose sessions start with its own pkmsgs.
    pub history_sync: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            state_dir: None,
            ref_count: 6,
            first_ref_window: Duration::from_secs(60),
            next_ref_window: Duration::from_secs(20),
            close_after_last_ref: Duration::from_secs(5),
            ack_deadline: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(20),
            scan_wait: Duration::from_secs(10),
            phone_number: "15550000001".to_owned(),
            phone_lid: "100000000000001".to_owned(),
            phone_platform: "android".to_owned(),
            location: "sim".to_owned(),
            intermediate_lifetime: Duration::from_secs(30 * 24 * 3600),
            leaf_lifetime: Duration::from_secs(7 * 24 * 3600),
            cert_renew_before: Duration::from_secs(24 * 3600),
            pbkdf2_iterations: wa_core::pair::code::DEFAULT_PBKDF2_ITERATIONS,
            refresh_on_scan: false,
            max_pre_keys_per_upload: 812,
            contacts: Vec::new(),
            groups: Vec::new(),
            history_sync: false,
        }
    }
}

impl SimConfig {
    /// Demo mode's world: three named contacts whose phones confirm at once, read after
    /// `read_after` and now and then reply, and a group with all of them.
    pub fn demo_world(mut self, read_after: Duration) -> Self {
        let ms = u64::try_from(read_after.as_millis()).unwrap_or(u64::MAX);
        let contact = |pn: &str, name: &str, every: u32, replies: &[&str]| ContactSpec {
            pn: Some(pn.to_owned()),
            name: Some(name.to_owned()),
            read_after_ms: Some(ms),
            reply_every: every,
            replies: replies.iter().map(|r| (*r).to_owned()).collect(),
            ..ContactSpec::default()
        };
        self.contacts = vec![
            contact(
                "4915123456789",
                "Ada",
                2,
                &["Thanks!", "Got it 👍", "See you then"],
            ),
            contact(
                "4915123456790",
                "Grace",
                3,
                &["Perfect, thank you", "Noted"],
            ),
            contact("4915123456791", "Linus", 0, &[]),
        ];
        self.groups = vec![GroupSpec {
            subject: "Book club".to_owned(),
            participants: vec![
                "4915123456789".to_owned(),
                "4915123456790".to_owned(),
                "4915123456791".to_owned(),
            ],
            addressing: Addressing::Pn,
        }];
        self
    }

    /// When ref `index` (0-based) may be scanned, relative to the `pair-device`:
    /// `[start, end)`.
    pub fn ref_window(&self, index: usize) -> (Duration, Duration) {
        let later = u32::try_from(index).unwrap_or(u32::MAX);
        if later == 0 {
            return (Duration::ZERO, self.first_ref_window);
        }
        let start = self.first_ref_window + self.next_ref_window.saturating_mul(later - 1);
        (start, start + self.next_ref_window)
    }

    /// When the registering connection is closed, relative to the `pair-device`.
    pub fn pairing_close_after(&self) -> Duration {
        let last = self.ref_count.saturating_sub(1);
        self.ref_window(last).1 + self.close_after_last_ref
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_windows_follow_the_client_rotation() {
        let c = SimConfig::default();
        let s = Duration::from_secs;
        assert_eq!(c.ref_window(0), (s(0), s(60)));
        assert_eq!(c.ref_window(1), (s(60), s(80)));
        assert_eq!(c.ref_window(5), (s(140), s(160)));
        assert_eq!(c.pairing_close_after(), s(165));
    }
}

//! The simulator and its control API. Tests call these methods directly; the HTTP handlers
//! under `/admin/` are thin wrappers around them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use wa_core::binary::Node;
use wa_core::payload::AppVersion;
use wa_core::signal::PublicKey;

use crate::conn;
use crate::link::{MemoryLink, ServerSide, PIPE_CAPACITY};
use crate::phone::{self, CodeRefused, CodeReport, ScanRefused, ScanReport};
use crate::shared::book::PairingBook;
use crate::shared::certs;
use crate::shared::config::SimConfig;
use crate::shared::error::SimError;
use crate::shared::events::{EventBus, SimEvent};
use crate::shared::faults::{lock, FailureSpec, Faults, KickKind};
use crate::shared::registry::{now_unix, ConnInfo, Counters, PastConn, Registry};
use crate::shared::state::{DeviceRecord, PhoneAccount, StateData, Store, StoredKeyPair};
use crate::shared::world::World;
use crate::shared::ConnCommand;
use crate::shared::Shared;

/// A snapshot for `GET /admin/state`.
#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    /// The root public key clients must trust, hex.
    pub root_pub_hex: String,
    /// The simulated phone's JID.
    pub phone: String,
    /// Open connections.
    pub connections: Vec<ConnInfo>,
    /// Closed connections, oldest first.
    pub past_connections: Vec<PastConn>,
    /// Paired devices.
    pub devices: Vec<DeviceView>,
    /// Totals.
    pub counters: Counters,
    /// The fault switches.
    pub faults: FaultView,
}

/// A paired device in the state view.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    /// Device JID.
    pub jid: String,
    /// LID JID.
    pub lid: String,
    /// `DeviceProps.os`.
    pub os: String,
    /// Unix seconds.
    pub paired_at: u64,
    /// Prekeys not yet handed out.
    pub pre_keys_available: usize,
}

/// The fault switches in the state view.
#[derive(Debug, Clone, Serialize)]
pub struct FaultView {
    /// Stalled.
    pub stalled: bool,
    /// Reply delay.
    pub delay_ms: u64,
    /// Pending failure for the next handshake.
    pub fail_next_login: Option<u16>,
    /// Minimum app version.
    pub min_version: Option<String>,
}

/// A running simulator. Cheap to clone; all clones control the same server.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
}

impl Simulator {
    /// Loads (or creates) the state and certificates. Must run inside a tokio runtime only
    /// for the methods that start connections.
    pub fn new(config: SimConfig) -> Result<Simulator, SimError> {
        let now = now_unix();
        let mut store = Store::open(config.state_dir.as_deref(), || fresh_state(&config, now))?;
        let c = &config;
        if certs::renew_if_needed(
            &mut store.data,
            now,
            c.cert_renew_before,
            c.intermediate_lifetime,
            c.leaf_lifetime,
        ) {
            store.save()?;
        }
        let identity = certs::server_identity(&store.data)?;
        let seed = match store.data.world_seed_hex.as_deref().map(hex::decode) {
            Some(Ok(bytes)) if bytes.len() == 32 => {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&bytes);
                seed
            }
            _ => {
                let mut seed = [0u8; 32];
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
                store.data.world_seed_hex = Some(hex::encode(seed));
                store.save()?;
                seed
            }
        };
        let mut world = World {
            seed,
            ..World::default()
        };
        if let Some(linked) = crate::accounts::linked_account(&world, &store.data) {
            world
                .lid_to_pn
                .insert(linked.lid.clone(), linked.pn.clone());
            world.accounts.insert(linked.pn.clone(), linked);
        }
        for spec in &config.contacts {
            crate::accounts::add_contact(&mut world, spec).map_err(SimError::World)?;
        }
        let linked_pn = store.data.phone.number.clone();
        for spec in &config.groups {
            let mut members = spec.participants.clone();
            if !members.contains(&linked_pn) {
                members.push(linked_pn.clone());
            }
            crate::groups::create(&mut world, &spec.subject, &members, spec.addressing)
                .map_err(SimError::World)?;
        }
        Ok(Simulator {
            shared: Arc::new_cyclic(|this| Shared {
                config,
                store: Mutex::new(store),
                faults: Faults::default(),
                registry: Mutex::new(Registry::default()),
                events: EventBus::default(),
                book: Mutex::new(PairingBook::default()),
                identity: Mutex::new(identity),
                world: Mutex::new(world),
                this: this.clone(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The root public key a client must trust instead of WhatsApp's.
    pub fn root_public_key(&self) -> Result<PublicKey, SimError> {
        Ok(lock(&self.shared.store).data.root.key_pair("root")?.public)
    }

    /// [`Simulator::root_public_key`] in hex.
    pub fn root_pub_hex(&self) -> Result<String, SimError> {
        Ok(hex::encode(self.root_public_key()?.as_bytes()))
    }

    /// The current Noise static public key (the leaf certificate's key).
    pub fn server_static_key(&self) -> PublicKey {
        self.shared.server_identity().noise_static.public
    }

    /// The simulated phone's JID, `number@s.whatsapp.net`.
    pub fn phone_jid(&self) -> String {
        format!(
            "{}@s.whatsapp.net",
            lock(&self.shared.store).data.phone.number
        )
    }

    /// Opens a connection that lives in memory; the same protocol code serves it as a
    /// WebSocket. Must be called inside a tokio runtime.
    pub fn connect_in_memory(&self) -> MemoryLink {
        let (to_server, inbound) = mpsc::channel(PIPE_CAPACITY);
        let (outbound, from_server) = mpsc::channel(PIPE_CAPACITY);
        let side = ServerSide {
            inbound,
            outbound,
            on_close: None,
        };
        tokio::spawn(conn::run(self.shared.clone(), side, "memory"));
        MemoryLink {
            to_server,
            from_server,
        }
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SimEvent> {
        self.shared.events.subscribe()
    }

    /// The phone scans a QR string: checks it (5-field form, ref issued and inside its
    /// window, keys equal to the registration's) and sends `pair-success` to the registering
    /// connection (or `companion_reg_refresh`, see [`SimConfig::refresh_on_scan`]).
    pub fn scan(&self, qr: &str) -> Result<ScanReport, ScanRefused> {
        phone::scan(&self.shared, qr, None)
    }

    /// [`Simulator::scan`] by the phone of another account (a contact): the companion is
    /// linked to that account.
    pub fn scan_as(&self, qr: &str, account: &str) -> Result<ScanReport, ScanRefused> {
        phone::scan(&self.shared, qr, Some(account))
    }

    /// The user types the pairing code shown by the companion into the phone (protocol.md
    /// §5.4): the phone answers the pending `companion_hello` with `primary_hello`.
    pub fn enter_pairing_code(&self, code: &str) -> Result<CodeReport, CodeRefused> {
        phone::enter_code(&self.shared, code)
    }

    /// Sends `<notification type="companion_reg_refresh">` to pairing connections (all, or
    /// `conn`). Returns how many got it.
    pub fn companion_reg_refresh(&self, conn: Option<u64>) -> usize {
        self.shared
            .command_all(conn, || ConnCommand::CompanionRegRefresh)
    }

    /// Sends a stanza to a connection; a message, receipt, notification or call must be
    /// acked in time. Returns false if the connection is gone.
    pub fn send_stanza(&self, conn: u64, node: Node) -> bool {
        self.shared.command(conn, ConnCommand::Send(Box::new(node)))
    }

    /// Kicks connections (all, or `conn`) with a stream error. Returns how many.
    pub fn kick(&self, kind: KickKind, conn: Option<u64>) -> usize {
        self.shared.command_all(conn, || ConnCommand::Kick(kind))
    }

    /// The next handshake gets `<failure reason>` instead of success or pairing.
    pub fn fail_next_login(&self, spec: FailureSpec) {
        tracing::info!(reason = spec.reason, "fault: the next login fails");
        self.shared.faults.set_fail_next_login(spec);
    }

    /// Stops answering anything; sockets stay open.
    pub fn stall(&self) {
        tracing::info!("fault: stalled");
        self.shared.faults.set_stalled(true);
    }

    /// Answers again, including what arrived while stalled.
    pub fn unstall(&self) {
        tracing::info!("fault: unstalled");
        self.shared.faults.set_stalled(false);
    }

    /// Closes connections (all, or `conn`) without a stream error. Returns how many.
    pub fn drop_connections(&self, conn: Option<u64>) -> usize {
        self.shared.command_all(conn, || ConnCommand::Drop)
    }

    /// Delays every reply by `delay` (zero turns it off).
    pub fn set_delay(&self, delay: Duration) {
        tracing::info!(delay_ms = delay.as_millis(), "fault: reply delay");
        self.shared.faults.set_delay(delay);
    }

    /// Refuses app versions older than `min` with 405 (`None` accepts all).
    pub fn set_min_version(&self, min: Option<AppVersion>) {
        tracing::info!(min = ?min.map(|v| v.to_string()), "minimum app version");
        self.shared.faults.set_min_version(min);
    }

    /// Paired devices.
    pub fn devices(&self) -> Vec<DeviceRecord> {
        lock(&self.shared.store)
            .data
            .devices
            .values()
            .cloned()
            .collect()
    }

    /// Everything `GET /admin/state` shows.
    pub fn state(&self) -> StateView {
        let (root_pub_hex, phone, devices) = {
            let store = lock(&self.shared.store);
            let root = store
                .data
                .root
                .key_pair("root")
                .map(|k| hex::encode(k.public.as_bytes()))
                .unwrap_or_default();
            let devices = store
                .data
                .devices
                .values()
                .map(|d| DeviceView {
                    jid: d.jid.clone(),
                    lid: d.lid.clone(),
                    os: d.os.clone(),
                    paired_at: d.paired_at,
                    pre_keys_available: d.available_pre_keys(),
                })
                .collect();
            let phone = format!("{}@s.whatsapp.net", store.data.phone.number);
            (root, phone, devices)
        };
        let registry = lock(&self.shared.registry);
        let faults = &self.shared.faults;
        StateView {
            root_pub_hex,
            phone,
            connections: registry.open.values().map(|c| c.info.clone()).collect(),
            past_connections: registry.past(),
            devices,
            counters: registry.counters.clone(),
            faults: FaultView {
                stalled: faults.is_stalled(),
                delay_ms: u64::try_from(faults.delay().as_millis()).unwrap_or(u64::MAX),
                fail_next_login: faults.fail_next_login_peek().map(|f| f.reason),
                min_version: faults.min_version().map(|v| v.to_string()),
            },
        }
    }
}

fn fresh_state(config: &SimConfig, now: u64) -> StateData {
    tracing::info!("creating a new simulator state (new root key, new phone account)");
    StateData {
        root: StoredKeyPair::generate(),
        intermediate: certs::new_cert(1, now, config.intermediate_lifetime),
        leaf: certs::new_cert(1, now, config.leaf_lifetime),
        phone: PhoneAccount {
            number: config.phone_number.clone(),
            lid: config.phone_lid.clone(),
            identity: StoredKeyPair::generate(),
        },
        devices: Default::default(),
        next_device: 1,
        next_key_index: 1,
        world_seed_hex: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::state::StoredSignedPreKey;

    #[test]
    fn an_older_state_file_with_devices_by_number_still_loads_keyed_by_jid() {
        let mut data = fresh_state(&SimConfig::default(), 1);
        let jid = "15550000001:3@s.whatsapp.net".to_owned();
        data.devices.insert(
            jid.clone(),
            DeviceRecord {
                device: 3,
                jid: jid.clone(),
                lid: "100000000000001:3@lid".to_owned(),
                noise_pub_hex: "00".repeat(32),
                identity_pub_hex: "00".repeat(32),
                registration_id: 1,
                signed_pre_key: StoredSignedPreKey {
                    id: 1,
                    public_hex: "00".repeat(32),
                    signature_hex: "00".repeat(64),
                },
                key_index: 1,
                os: "Linux".to_owned(),
                paired_at: 1,
                companion_enc_static: String::new(),
                pre_keys: Default::default(),
            },
        );
        let json = serde_json::to_string(&data).unwrap();
        let older = json.replace(&format!("\"{jid}\":"), "\"3\":");
        assert_ne!(json, older);
        let loaded: StateData = serde_json::from_str(&older).unwrap();
        assert_eq!(loaded.devices.keys().collect::<Vec<_>>(), [&jid]);
        assert_eq!(loaded.world_seed_hex, None, "made on the next start");
    }
}

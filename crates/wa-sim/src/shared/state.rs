//! What survives a restart, in one JSON file (`state.json`) in the state directory: the root
//! key clients trust, the current intermediate and leaf certificates, the simulated phone's
//! account, and every device paired here with its prekeys.
//!
//! Writes are atomic (a temporary file, fsync, rename), so a crash leaves either the old or
//! the new state, never half of one.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use wa_core::signal::{KeyPair, PublicKey};

use crate::shared::error::SimError;

/// The file name inside the state directory.
pub const STATE_FILE: &str = "state.json";

/// A key pair as stored: the private key in hex (the public half is derived on load).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredKeyPair {
    /// 32 private key bytes, hex.
    pub private_hex: String,
}

impl StoredKeyPair {
    /// A fresh key pair from the OS RNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self {
            private_hex: hex::encode(bytes),
        }
    }

    /// The key pair, or an error naming the field if the hex is damaged.
    pub fn key_pair(&self, field: &'static str) -> Result<KeyPair, SimError> {
        let bytes: [u8; 32] = hex::decode(&self.private_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(SimError::CorruptState(field))?;
        Ok(KeyPair::from_private_bytes(bytes))
    }
}

/// One issued certificate key with its validity, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredCert {
    /// The certified key pair.
    pub key: StoredKeyPair,
    /// Serial number.
    pub serial: u32,
    /// Unix seconds.
    pub not_before: u64,
    /// Unix seconds.
    pub not_after: u64,
}

/// The simulated phone: the primary device of the one account this simulator hosts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PhoneAccount {
    /// The phone number, the user part of every device JID.
    pub number: String,
    /// The account's LID user.
    pub lid: String,
    /// The account (primary device) identity key that signs companions' ADV identities.
    pub identity: StoredKeyPair,
}

/// A prekey the device uploaded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredPreKey {
    /// Public key, hex.
    pub public_hex: String,
    /// Handed out in a bundle already (one-time keys are used once).
    #[serde(default)]
    pub used: bool,
}

/// The device's current signed prekey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSignedPreKey {
    /// 24-bit id.
    pub id: u32,
    /// Public key, hex.
    pub public_hex: String,
    /// XEdDSA signature by the identity key over `05 || public`, hex.
    pub signature_hex: String,
}

/// A companion device paired here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Device id (the `:N` of the JID; never 0, that is the phone).
    pub device: u16,
    /// `phone:device@s.whatsapp.net`.
    pub jid: String,
    /// `lid:device@lid`.
    pub lid: String,
    /// The Noise static key the device registered with; a login must use the same one.
    pub noise_pub_hex: String,
    /// The Signal identity key.
    pub identity_pub_hex: String,
    /// The Signal registration id.
    pub registration_id: u32,
    /// The signed prekey from registration or the latest upload.
    pub signed_pre_key: StoredSignedPreKey,
    /// ADV key index given at pairing.
    pub key_index: u32,
    /// `DeviceProps.os`, what the phone lists.
    pub os: String,
    /// Unix seconds of pairing (the `creation` of `<success>`).
    pub paired_at: u64,
    /// `companion_enc_static` of `<success>`, base64; fixed per device.
    pub companion_enc_static: String,
    /// Every prekey ever uploaded, by id; handed-out ones stay (marked used) so that an id
    /// is never accepted twice.
    #[serde(default)]
    pub pre_keys: BTreeMap<u32, StoredPreKey>,
}

impl DeviceRecord {
    /// The registered Noise static key.
    pub fn noise_pub(&self) -> Option<PublicKey> {
        decode_pub(&self.noise_pub_hex)
    }

    /// The registered identity key.
    pub fn identity_pub(&self) -> Option<PublicKey> {
        decode_pub(&self.identity_pub_hex)
    }

    /// The account's phone number (the user part of the JID).
    pub fn user(&self) -> &str {
        self.jid.split([':', '@']).next().unwrap_or("")
    }

    /// Prekeys not yet handed out.
    pub fn available_pre_keys(&self) -> usize {
        self.pre_keys.values().filter(|k| !k.used).count()
    }
}

fn decode_pub(hex_text: &str) -> Option<PublicKey> {
    let bytes = hex::decode(hex_text).ok()?;
    PublicKey::from_slice(&bytes).ok()
}

/// Reads the device map whatever it was keyed by (older files keyed it by device number) and
/// keys it by each record's JID.
fn devices_by_jid<'de, D>(deserializer: D) -> Result<BTreeMap<String, DeviceRecord>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let map = BTreeMap::<String, DeviceRecord>::deserialize(deserializer)?;
    Ok(map.into_values().map(|d| (d.jid.clone(), d)).collect())
}

/// Everything in `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StateData {
    /// The root key pair; its public half is `root_pub_hex`, what clients trust.
    pub root: StoredKeyPair,
    /// The current intermediate certificate, signed by the root.
    pub intermediate: StoredCert,
    /// The current leaf certificate; its key is the server's Noise static key.
    pub leaf: StoredCert,
    /// The simulated phone.
    pub phone: PhoneAccount,
    /// Paired companions by device JID (`number:device@s.whatsapp.net`), of the linked
    /// account and of contacts another client linked to.
    #[serde(default, deserialize_with = "devices_by_jid")]
    pub devices: BTreeMap<String, DeviceRecord>,
    /// The next device id to give out on the linked account.
    pub next_device: u16,
    /// The next ADV key index to give out.
    pub next_key_index: u32,
    /// What the simulated contacts' keys derive from (hex), so they are the same after a
    /// restart; made on first start.
    #[serde(default)]
    pub world_seed_hex: Option<String>,
}

/// The state file and its contents.
#[derive(Debug)]
pub struct Store {
    path: Option<PathBuf>,
    /// The current contents; call [`Store::save`] after changing them.
    pub data: StateData,
}

impl Store {
    /// Loads `state.json` from `dir`, or creates a fresh state (new root, new phone) there.
    /// `None` keeps the state in memory only, for tests.
    pub fn open(dir: Option<&Path>, fresh: impl FnOnce() -> StateData) -> Result<Store, SimError> {
        let Some(dir) = dir else {
            return Ok(Store {
                path: None,
                data: fresh(),
            });
        };
        fs::create_dir_all(dir).map_err(|source| SimError::Io {
            what: "create the state directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(STATE_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let data =
                    serde_json::from_slice(&bytes).map_err(|source| SimError::StateJson {
                        path: path.clone(),
                        source,
                    })?;
                Ok(Store {
                    path: Some(path),
                    data,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let store = Store {
                    path: Some(path),
                    data: fresh(),
                };
                store.save()?;
                Ok(store)
            }
            Err(source) => Err(SimError::Io {
                what: "read the state file",
                path,
                source,
            }),
        }
    }

    /// Writes the state atomically: temporary file, fsync, rename.
    pub fn save(&self) -> Result<(), SimError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let json = serde_json::to_vec_pretty(&self.data).map_err(|source| SimError::StateJson {
            path: path.clone(),
            source,
        })?;
        let tmp = path.with_extension("json.tmp");
        let io = |what: &'static str| {
            let path = tmp.clone();
            move |source| SimError::Io { what, path, source }
        };
        let mut file = fs::File::create(&tmp).map_err(io("create the temporary state file"))?;
        file.write_all(&json)
            .map_err(io("write the temporary state file"))?;
        file.sync_all()
            .map_err(io("sync the temporary state file"))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io("replace the state file"))?;
        Ok(())
    }
}

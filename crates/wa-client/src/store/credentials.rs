//! The device row: keys, and the account once paired.

use rusqlite::{params, Connection, OptionalExtension, Row};
use wa_core::binary::Jid;
use wa_core::signal::{xeddsa, KeyPair, PublicKey, DJB_TYPE, SIGNATURE_LEN};

use super::StoreError;

/// The signed prekey: generated with the device, announced at registration.
#[derive(Debug, Clone)]
pub struct SignedPreKey {
    pub id: u32,
    pub key: KeyPair,
    /// XEdDSA by the identity key over `05 || key.public`.
    pub signature: [u8; SIGNATURE_LEN],
}

/// The account the phone linked us to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Our device JID, `phone:device@s.whatsapp.net`.
    pub jid: Jid,
    /// Our LID, `lid:device@lid`.
    pub lid: Option<Jid>,
    /// The phone's platform (`android`, `iphone`, …).
    pub platform: Option<String>,
    pub business_name: Option<String>,
    /// Our `ADVSignedDeviceIdentity` with the account signature key and our device signature.
    pub signed_identity: Vec<u8>,
    /// The phone's identity key.
    pub account_signature_key: [u8; 32],
    pub paired_at_ms: u64,
}

/// Everything that makes us this device.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The Noise static key (also in the QR code).
    pub noise: KeyPair,
    /// The Signal identity key.
    pub identity: KeyPair,
    pub registration_id: u32,
    pub signed_prekey: SignedPreKey,
    /// The secret the phone keys the ADV HMAC with (in the QR code).
    pub adv_secret: [u8; 32],
    pub created_at_ms: u64,
    /// Set once paired.
    pub account: Option<Account>,
}

impl Credentials {
    /// Fresh keys for a new device (protocol.md §3.3): noise and identity key pairs, a
    /// registration id, signed prekey 1, a random ADV secret.
    pub fn generate(rng: &mut (impl rand::RngCore + rand::CryptoRng), now_ms: u64) -> Self {
        let noise = KeyPair::generate(rng);
        let identity = KeyPair::generate(rng);
        let spk = KeyPair::generate(rng);
        let mut message = [0u8; 33];
        message[0] = DJB_TYPE;
        message[1..].copy_from_slice(spk.public.as_bytes());
        let signature = xeddsa::sign_with_rng(&identity.private, &message, rng);
        let mut adv_secret = [0u8; 32];
        rng.fill_bytes(&mut adv_secret);
        Self {
            noise,
            identity,
            // Signal keeps registration ids in 14 bits; any non-zero value in range works.
            registration_id: 1 + (rng.next_u32() % 16380),
            signed_prekey: SignedPreKey {
                id: 1,
                key: spk,
                signature,
            },
            adv_secret,
            created_at_ms: now_ms,
            account: None,
        }
    }
}

fn key32(bytes: Vec<u8>, what: &'static str) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(what))
}

fn jid(text: Option<String>, what: &'static str) -> Result<Option<Jid>, StoreError> {
    text.map(|t| t.parse().map_err(|_| StoreError::Corrupt(what)))
        .transpose()
}

struct RawRow {
    noise: Vec<u8>,
    identity: Vec<u8>,
    registration_id: u32,
    spk_id: u32,
    spk: Vec<u8>,
    spk_sig: Vec<u8>,
    adv: Vec<u8>,
    created: i64,
    jid: Option<String>,
    lid: Option<String>,
    platform: Option<String>,
    business_name: Option<String>,
    account: Option<Vec<u8>>,
    account_key: Option<Vec<u8>>,
    paired_at: Option<i64>,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        noise: r.get(0)?,
        identity: r.get(1)?,
        registration_id: r.get(2)?,
        spk_id: r.get(3)?,
        spk: r.get(4)?,
        spk_sig: r.get(5)?,
        adv: r.get(6)?,
        created: r.get(7)?,
        jid: r.get(8)?,
        lid: r.get(9)?,
        platform: r.get(10)?,
        business_name: r.get(11)?,
        account: r.get(12)?,
        account_key: r.get(13)?,
        paired_at: r.get(14)?,
    })
}

pub(super) fn load(conn: &Connection) -> Result<Option<Credentials>, StoreError> {
    let row = conn
        .query_row(
            "SELECT noise_private, identity_private, registration_id, signed_prekey_id,
                    signed_prekey_private, signed_prekey_signature, adv_secret, created_at_ms,
                    jid, lid, platform, business_name, account, account_signature_key, paired_at_ms
             FROM device WHERE id = 1",
            [],
            raw,
        )
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let account = match (row.jid, row.account, row.account_key, row.paired_at) {
        (Some(j), Some(signed_identity), Some(key), Some(at)) => Some(Account {
            jid: jid(Some(j), "jid")?.ok_or(StoreError::Corrupt("jid"))?,
            lid: jid(row.lid, "lid")?,
            platform: row.platform,
            business_name: row.business_name,
            signed_identity,
            account_signature_key: key32(key, "account signature key")?,
            paired_at_ms: at as u64,
        }),
        (None, None, None, None) => None,
        // Pairing writes all four in one statement; a partial set is not a state we make.
        _ => return Err(StoreError::Corrupt("account")),
    };
    let signature: [u8; SIGNATURE_LEN] = row
        .spk_sig
        .try_into()
        .map_err(|_| StoreError::Corrupt("signed prekey signature"))?;
    Ok(Some(Credentials {
        noise: KeyPair::from_private_bytes(key32(row.noise, "noise key")?),
        identity: KeyPair::from_private_bytes(key32(row.identity, "identity key")?),
        registration_id: row.registration_id,
        signed_prekey: SignedPreKey {
            id: row.spk_id,
            key: KeyPair::from_private_bytes(key32(row.spk, "signed prekey")?),
            signature,
        },
        adv_secret: key32(row.adv, "adv secret")?,
        created_at_ms: row.created as u64,
        account,
    }))
}

pub(super) fn insert(conn: &Connection, c: &Credentials) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO device (id, noise_private, identity_private, registration_id, signed_prekey_id,
            signed_prekey_private, signed_prekey_signature, adv_secret, created_at_ms)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            &c.noise.private.to_bytes()[..],
            &c.identity.private.to_bytes()[..],
            c.registration_id,
            c.signed_prekey.id,
            &c.signed_prekey.key.private.to_bytes()[..],
            &c.signed_prekey.signature[..],
            &c.adv_secret[..],
            c.created_at_ms as i64,
        ],
    )?;
    if let Some(a) = &c.account {
        update_account(conn, a)?;
    }
    Ok(())
}

pub(super) fn update_account(conn: &Connection, a: &Account) -> Result<(), StoreError> {
    let changed = conn.execute(
        "UPDATE device SET jid = ?1, lid = ?2, platform = ?3, business_name = ?4, account = ?5,
            account_signature_key = ?6, paired_at_ms = ?7 WHERE id = 1",
        params![
            a.jid.to_string(),
            a.lid.as_ref().map(ToString::to_string),
            a.platform,
            a.business_name,
            a.signed_identity,
            &a.account_signature_key[..],
            a.paired_at_ms as i64,
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::Corrupt("device row missing while pairing"));
    }
    Ok(())
}

impl Account {
    /// The phone's identity key as a public key.
    pub fn account_key(&self) -> PublicKey {
        PublicKey::from_bytes(self.account_signature_key)
    }
}

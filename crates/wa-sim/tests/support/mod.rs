//! A minimal raw client for the simulator's tests, built on wa-core: Noise initiator, payload
//! builders and the frame codec over a pair of byte channels (the in-memory link, or a
//! WebSocket bridged to channels). Not the product client.
#![allow(dead_code)]

pub mod net;
pub mod peer;
pub mod world;

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand_core::OsRng;
use tokio::sync::mpsc;
use wa_core::binary::{decode, encode, Jid, Node, Server};
use wa_core::noise::{FrameDecoder, FrameEncoder, Initiator, TransportCipher};
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::pair::qr::{CompanionWebClientType, QrData};
use wa_core::payload::{
    login_payload, registration_payload, ClientConfig, LoginIdentity, RegistrationKeys,
};
use wa_core::proto::{ClientPayload, ProtoMessage};
use wa_core::signal::{xeddsa, KeyPair, PublicKey, DJB_TYPE};
use wa_core::stanza::pair::{iq_result, PairDevice, PairDeviceSign, PairSuccess};
use wa_sim::{MemoryLink, Simulator};

/// How long any single wait may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(30);

/// A companion's long-term keys.
#[derive(Clone)]
pub struct Keys {
    pub noise: KeyPair,
    pub identity: KeyPair,
    pub signed_pre_key: KeyPair,
    pub signed_pre_key_signature: [u8; 64],
    pub registration_id: u32,
    pub adv_secret: [u8; 32],
}

impl Keys {
    pub fn generate() -> Keys {
        let identity = KeyPair::generate(&mut OsRng);
        let signed_pre_key = KeyPair::generate(&mut OsRng);
        let signature = xeddsa::sign_with_rng(
            &identity.private,
            &[&[DJB_TYPE][..], signed_pre_key.public.as_bytes()].concat(),
            &mut OsRng,
        );
        let mut adv_secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut adv_secret);
        Keys {
            noise: KeyPair::generate(&mut OsRng),
            identity,
            signed_pre_key,
            signed_pre_key_signature: signature,
            registration_id: 4242,
            adv_secret,
        }
    }

    pub fn registration(&self) -> ClientPayload {
        let keys = RegistrationKeys {
            registration_id: self.registration_id,
            identity: &self.identity.public,
            signed_pre_key_id: 1,
            signed_pre_key: &self.signed_pre_key.public,
            signed_pre_key_signature: &self.signed_pre_key_signature,
        };
        registration_payload(&ClientConfig::default(), &keys).expect("registration payload")
    }

    pub fn qr(&self, pairing_ref: &str) -> String {
        QrData {
            pairing_ref: pairing_ref.to_owned(),
            noise_pub: *self.noise.public.as_bytes(),
            identity_pub: *self.identity.public.as_bytes(),
            adv_secret: self.adv_secret,
            client_type: CompanionWebClientType::OtherWebClient,
        }
        .to_qr_string()
    }
}

pub fn login(jid: &Jid) -> ClientPayload {
    login_payload(
        &ClientConfig::default(),
        LoginIdentity {
            username: jid.user.parse().expect("numeric user"),
            device: u32::from(jid.device),
        },
    )
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One raw connection.
pub struct RawClient {
    pub to_server: Option<mpsc::Sender<Vec<u8>>>,
    pub from_server: mpsc::Receiver<Vec<u8>>,
    encoder: FrameEncoder,
    decoder: FrameDecoder,
    cipher: Option<TransportCipher>,
    frames: VecDeque<Vec<u8>>,
}

impl RawClient {
    pub fn new(link: MemoryLink) -> RawClient {
        Self::from_channels(link.to_server, link.from_server)
    }

    pub fn from_channels(
        to_server: mpsc::Sender<Vec<u8>>,
        from_server: mpsc::Receiver<Vec<u8>>,
    ) -> RawClient {
        RawClient {
            to_server: Some(to_server),
            from_server,
            encoder: FrameEncoder::client(),
            decoder: FrameDecoder::client(),
            cipher: None,
            frames: VecDeque::new(),
        }
    }

    pub async fn send_bytes(&mut self, bytes: Vec<u8>) {
        let tx = self.to_server.as_ref().expect("client not closed");
        let _ = tx.send(bytes).await;
    }

    async fn send_frame(&mut self, payload: &[u8]) {
        let framed = self.encoder.encode(payload).expect("frame");
        self.send_bytes(framed).await;
    }

    /// The next frame payload, or None once the server closed.
    pub async fn recv_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Some(f);
            }
            if let Some(f) = self.decoder.next_frame().expect("server framing") {
                return Some(f);
            }
            let bytes = tokio::time::timeout(WAIT, self.from_server.recv())
                .await
                .expect("server answered in time")?;
            self.decoder.push(&bytes).expect("server framing");
        }
    }

    /// Runs the Noise handshake with `payload`, verifying the chain under `root`.
    pub async fn handshake(&mut self, noise: &KeyPair, root: &PublicKey, payload: &ClientPayload) {
        let (initiator, hello) = Initiator::start_with_rng(noise.clone(), &mut OsRng);
        self.send_frame(&hello).await;
        let server_hello = self.recv_frame().await.expect("server hello");
        let received = initiator
            .read_server_hello(&server_hello)
            .expect("valid server hello");
        received
            .verify_cert_chain(root, now_unix())
            .expect("certificate chain verifies under the simulator's root");
        let (finish, cipher) = received.finish(&payload.encode_to_vec()).expect("finish");
        self.send_frame(&finish).await;
        self.cipher = Some(cipher);
    }

    pub async fn send_node(&mut self, node: &Node) {
        let plain = encode(node).expect("encode");
        let sealed = self
            .cipher
            .as_mut()
            .expect("handshake done")
            .encrypt(&plain)
            .expect("encrypt");
        self.send_frame(&sealed).await;
    }

    /// Encrypts and sends arbitrary frame plaintext (flags byte included).
    pub async fn send_raw_plaintext(&mut self, plain: &[u8]) {
        let sealed = self
            .cipher
            .as_mut()
            .expect("cipher")
            .encrypt(plain)
            .expect("encrypt");
        self.send_frame(&sealed).await;
    }

    /// Sends a frame whose ciphertext was altered after encryption.
    pub async fn send_tampered(&mut self, node: &Node) {
        let plain = encode(node).expect("encode");
        let mut sealed = self
            .cipher
            .as_mut()
            .expect("cipher")
            .encrypt(&plain)
            .expect("encrypt");
        sealed[0] ^= 0x01;
        self.send_frame(&sealed).await;
    }

    /// The next node, or None once the server closed.
    pub async fn recv_node(&mut self) -> Option<Node> {
        let frame = self.recv_frame().await?;
        let plain = self
            .cipher
            .as_mut()
            .expect("handshake done")
            .decrypt(&frame)
            .expect("server frame decrypts");
        Some(decode(&plain).expect("server node decodes"))
    }

    /// The next node that is not `xmlstreamend`.
    pub async fn recv(&mut self) -> Node {
        loop {
            let node = self.recv_node().await.expect("a node before the close");
            if node.tag != "xmlstreamend" {
                return node;
            }
        }
    }

    /// Reads until the server closes; returns what came (without `xmlstreamend`).
    pub async fn until_closed(&mut self) -> Vec<Node> {
        let mut nodes = Vec::new();
        while let Some(node) = self.recv_node().await {
            if node.tag != "xmlstreamend" {
                nodes.push(node);
            }
        }
        nodes
    }

    /// Closes the client side.
    pub fn close(&mut self) {
        self.to_server = None;
    }
}

/// Registers on a fresh in-memory connection and returns the client and its `pair-device`.
pub async fn register(sim: &Simulator, keys: &Keys) -> (RawClient, PairDevice) {
    let mut client = RawClient::new(sim.connect_in_memory());
    let root = sim.root_public_key().expect("root");
    client
        .handshake(&keys.noise, &root, &keys.registration())
        .await;
    let node = client.recv().await;
    let pair_device = PairDevice::parse(&node).expect("pair-device");
    client.send_node(&iq_result(&pair_device.id)).await;
    (client, pair_device)
}

/// Answers `pair-success` the way a correct companion does; returns our new JID.
pub async fn sign_pair_success(client: &mut RawClient, keys: &Keys) -> Jid {
    let node = client.recv().await;
    let success = PairSuccess::parse(&node).expect("pair-success");
    let paired = verify_pair_success_identity(
        &success.device_identity,
        &keys.adv_secret,
        &keys.identity,
        &mut OsRng,
    )
    .expect("phone identity verifies");
    let sign = PairDeviceSign {
        id: success.id.clone(),
        key_index: paired.key_index,
        device_identity: paired.reply_bytes(),
    };
    client.send_node(&sign.to_node()).await;
    success.jid
}

/// Pairs a new device by QR and returns its keys and JID (after the 515).
pub async fn pair(sim: &Simulator) -> (Keys, Jid) {
    let keys = Keys::generate();
    let (mut client, pair_device) = register(sim, &keys).await;
    sim.scan(&keys.qr(&pair_device.refs[0]))
        .expect("scan accepted");
    let jid = sign_pair_success(&mut client, &keys).await;
    let rest = client.until_closed().await;
    assert_eq!(rest.len(), 1, "only the 515 follows: {rest:?}");
    assert_eq!(rest[0].attr_str("code"), Some("515"));
    (keys, jid)
}

/// Logs in and returns the client after `<success>`.
pub async fn login_client(sim: &Simulator, keys: &Keys, jid: &Jid) -> (RawClient, Node) {
    let mut client = RawClient::new(sim.connect_in_memory());
    let root = sim.root_public_key().expect("root");
    client.handshake(&keys.noise, &root, &login(jid)).await;
    let first = client.recv().await;
    (client, first)
}

/// `<iq to=@s.whatsapp.net id type xmlns>` with children.
pub fn iq(id: &str, iq_type: &'static str, xmlns: &'static str, children: Vec<Node>) -> Node {
    let n = Node::new("iq")
        .with_attr("id", id.to_owned())
        .with_attr("to", Jid::server_jid(Server::Pn))
        .with_attr("type", iq_type)
        .with_attr("xmlns", xmlns);
    if children.is_empty() {
        n
    } else {
        n.with_children(children)
    }
}

/// A simulator that keeps its state in memory.
pub fn sim() -> Simulator {
    Simulator::new(wa_sim::SimConfig::default()).expect("simulator")
}

pub fn sim_with(config: wa_sim::SimConfig) -> Simulator {
    Simulator::new(config).expect("simulator")
}

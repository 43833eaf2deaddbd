//! A raw messaging client on wa-core for the relay tests: pairs, uploads prekeys, goes
//! active, asks usync and bundles, encrypts with wa-core's Signal sessions and builds the
//! `<message>` stanzas by hand, so every rule of the relay can be hit on purpose.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};

use prost::Message as _;
use rand_core::OsRng;
use wa_core::binary::{Jid, Node, Server};
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::plaintext::{decode_padded, encode_padded};
use wa_core::proto::Message;
use wa_core::signal::group::{SenderKeyDistributionMessage, SenderKeyRecord};
use wa_core::signal::{
    LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, PublicKey, SessionRecord,
    SignedPreKeyRecord, DJB_TYPE,
};
use wa_core::stanza::pair::{iq_result, PairDevice, PairDeviceSign, PairSuccess};
use wa_sim::Simulator;

use super::{iq, login, Keys, RawClient};

/// Our prekeys, for decrypting what contacts send.
pub struct Prekeys {
    pub signed: SignedPreKeyRecord,
    pub one_time: BTreeMap<u32, PreKeyRecord>,
}

impl PreKeyLookup for Prekeys {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.one_time.get(&id).cloned()
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        (self.signed.id == id).then(|| self.signed.clone())
    }
}

/// A logged-in, active messaging client.
pub struct Peer {
    pub keys: Keys,
    pub jid: Jid,
    pub client: RawClient,
    /// `<device-identity>` for pkmsg stanzas: the account-signed identity with our signature.
    pub device_identity: Vec<u8>,
    pub local: LocalIdentity,
    pub prekeys: Prekeys,
    pub sessions: HashMap<String, SessionRecord>,
    pub sender_keys: HashMap<String, SenderKeyRecord>,
    /// Stanzas read while waiting for something else.
    pub backlog: VecDeque<Node>,
    next_iq: u32,
}

/// Pairs a device through the simulated phone of `account` (the linked account if `None`);
/// returns the keys, JID and `<device-identity>` bytes.
pub async fn pair_with_identity(sim: &Simulator, account: Option<&str>) -> (Keys, Jid, Vec<u8>) {
    let keys = Keys::generate();
    let mut client = RawClient::new(sim.connect_in_memory());
    let root = sim.root_public_key().expect("root");
    client
        .handshake(&keys.noise, &root, &keys.registration())
        .await;
    let pair_device = PairDevice::parse(&client.recv().await).expect("pair-device");
    client.send_node(&iq_result(&pair_device.id)).await;
    let qr = keys.qr(&pair_device.refs[0]);
    match account {
        Some(a) => sim.scan_as(&qr, a).expect("scan"),
        None => sim.scan(&qr).expect("scan"),
    };
    let success = PairSuccess::parse(&client.recv().await).expect("pair-success");
    let paired = verify_pair_success_identity(
        &success.device_identity,
        &keys.adv_secret,
        &keys.identity,
        &mut OsRng,
    )
    .expect("identity verifies");
    let sign = PairDeviceSign {
        id: success.id.clone(),
        key_index: paired.key_index,
        device_identity: paired.reply_bytes(),
    };
    client.send_node(&sign.to_node()).await;
    let rest = client.until_closed().await;
    assert_eq!(rest[0].attr_str("code"), Some("515"));
    (keys, success.jid, paired.account.encode_to_vec())
}

impl Peer {
    /// Pairs, logs in, uploads 10 prekeys and goes active; `offline` receives what was queued.
    pub async fn online(sim: &Simulator, account: Option<&str>) -> Peer {
        let (keys, jid, device_identity) = pair_with_identity(sim, account).await;
        let mut peer = Peer::login(sim, keys, jid, device_identity).await;
        peer.upload_prekeys(1, 10).await;
        let offline = peer.go_active().await;
        assert!(offline.is_empty(), "{offline:?}");
        peer
    }

    /// Logs in again (no upload, not active yet).
    pub async fn login(sim: &Simulator, keys: Keys, jid: Jid, device_identity: Vec<u8>) -> Peer {
        let mut client = RawClient::new(sim.connect_in_memory());
        let root = sim.root_public_key().expect("root");
        client.handshake(&keys.noise, &root, &login(&jid)).await;
        Peer::logged_in(client, keys, jid, device_identity).await
    }

    /// A client that finished the handshake with a login payload; reads `<success>`.
    pub async fn logged_in(
        mut client: RawClient,
        keys: Keys,
        jid: Jid,
        device_identity: Vec<u8>,
    ) -> Peer {
        assert_eq!(client.recv().await.tag, "success");
        let local = LocalIdentity {
            key_pair: keys.identity.clone(),
            registration_id: keys.registration_id,
        };
        let signed = SignedPreKeyRecord {
            id: 1,
            key_pair: keys.signed_pre_key.clone(),
            signature: keys.signed_pre_key_signature,
        };
        Peer {
            keys,
            jid,
            client,
            device_identity,
            local,
            prekeys: Prekeys {
                signed,
                one_time: BTreeMap::new(),
            },
            sessions: HashMap::new(),
            sender_keys: HashMap::new(),
            backlog: VecDeque::new(),
            next_iq: 0,
        }
    }

    /// The same device, logged in on a fresh connection (keeps sessions and prekeys).
    pub async fn reconnect(self, sim: &Simulator) -> Peer {
        let Peer {
            keys,
            jid,
            device_identity,
            prekeys,
            sessions,
            sender_keys,
            ..
        } = self;
        let mut peer = Peer::login(sim, keys, jid, device_identity).await;
        peer.prekeys = prekeys;
        peer.sessions = sessions;
        peer.sender_keys = sender_keys;
        peer
    }

    pub fn user(&self) -> String {
        self.jid.user.clone()
    }

    fn iq_id(&mut self) -> String {
        self.next_iq += 1;
        format!("t{}", self.next_iq)
    }

    /// Sends an IQ and returns its answer; other stanzas go to the backlog.
    pub async fn query(&mut self, node: Node) -> Node {
        let id = node.attr_str("id").expect("iq id").to_owned();
        self.client.send_node(&node).await;
        loop {
            let n = self.client.recv().await;
            if n.tag == "iq" && n.attr_str("id") == Some(&id) {
                return n;
            }
            self.backlog.push_back(n);
        }
    }

    pub async fn upload_prekeys(&mut self, first: u32, n: u32) {
        let mut list = Vec::new();
        for id in first..first + n {
            let key = PreKeyRecord::generate(id, &mut OsRng);
            list.push(Node::new("key").with_children(vec![
                Node::new("id").with_bytes(id.to_be_bytes()[1..].to_vec()),
                Node::new("value").with_bytes(key.key_pair.public.as_bytes().to_vec()),
            ]));
            self.prekeys.one_time.insert(id, key);
        }
        let id = self.iq_id();
        let signed = &self.prekeys.signed;
        let node = iq(
            &id,
            "set",
            "encrypt",
            vec![
                Node::new("registration")
                    .with_bytes(self.keys.registration_id.to_be_bytes().to_vec()),
                Node::new("type").with_bytes(vec![DJB_TYPE]),
                Node::new("identity").with_bytes(self.keys.identity.public.as_bytes().to_vec()),
                Node::new("list").with_children(list),
                Node::new("skey").with_children(vec![
                    Node::new("id").with_bytes(vec![0, 0, 1]),
                    Node::new("value").with_bytes(signed.key_pair.public.as_bytes().to_vec()),
                    Node::new("signature").with_bytes(signed.signature.to_vec()),
                ]),
            ],
        );
        let answer = self.query(node).await;
        assert_eq!(answer.attr_str("type"), Some("result"), "{answer}");
    }

    /// Goes active; returns the queued stanzas delivered before `<ib><offline>`.
    pub async fn go_active(&mut self) -> Vec<Node> {
        let id = self.iq_id();
        let answer = self
            .query(iq(&id, "set", "passive", vec![Node::new("active")]))
            .await;
        assert_eq!(answer.attr_str("type"), Some("result"));
        let mut queued = Vec::new();
        loop {
            let n = self.next_stanza().await;
            if n.tag == "ib" {
                let count = n.child("offline").and_then(|o| o.attr_str("count"));
                assert_eq!(count, Some(queued.len().to_string().as_str()));
                return queued;
            }
            queued.push(n);
        }
    }

    /// The next stanza, from the backlog first.
    pub async fn next_stanza(&mut self) -> Node {
        match self.backlog.pop_front() {
            Some(n) => n,
            None => self.client.recv().await,
        }
    }

    /// The next stanza with this tag; others are kept in the backlog.
    pub async fn next(&mut self, tag: &str) -> Node {
        if let Some(pos) = self.backlog.iter().position(|n| n.tag == tag) {
            return self.backlog.remove(pos).expect("present");
        }
        loop {
            let n = self.client.recv().await;
            if n.tag == tag {
                return n;
            }
            self.backlog.push_back(n);
        }
    }

    /// usync devices of `users`: the device JIDs, with their key indexes.
    pub async fn devices(&mut self, users: &[Jid]) -> Vec<(Jid, Option<String>)> {
        let id = self.iq_id();
        let list = users
            .iter()
            .map(|u| Node::new("user").with_attr("jid", u.clone()))
            .collect();
        let node = iq(
            &id,
            "get",
            "usync",
            vec![Node::new("usync")
                .with_attr("sid", id.clone())
                .with_attr("mode", "query")
                .with_attr("last", "true")
                .with_attr("index", "0")
                .with_attr("context", "message")
                .with_children(vec![
                    Node::new("query")
                        .with_children(vec![Node::new("devices").with_attr("version", "2")]),
                    Node::new("list").with_children(list),
                ])],
        );
        let answer = self.query(node).await;
        let mut out = Vec::new();
        let list = answer
            .child("usync")
            .and_then(|u| u.child("list"))
            .expect("list");
        for user in list.children_by_tag("user") {
            let jid = wa_sim_attr_jid(user, "jid");
            let devices = user.child("devices").and_then(|d| d.child("device-list"));
            for d in devices.map(Node::children).unwrap_or_default() {
                let n: u16 = d
                    .attr_str("id")
                    .and_then(|i| i.parse().ok())
                    .expect("device id");
                out.push((
                    Jid::with_device(jid.user.clone(), n, jid.server.clone()),
                    d.attr_str("key-index").map(str::to_owned),
                ));
            }
        }
        out
    }

    /// The bundle the server serves for one device (`None` with an error answer).
    pub async fn bundle(&mut self, device: &Jid) -> Option<PreKeyBundle> {
        let id = self.iq_id();
        let node = iq(
            &id,
            "get",
            "encrypt",
            vec![Node::new("key")
                .with_children(vec![Node::new("user").with_attr("jid", device.clone())])],
        );
        let answer = self.query(node).await;
        let user = answer.child("list")?.child("user")?.clone();
        if user.child("error").is_some() {
            return None;
        }
        let b = |n: &Node, t: &str| n.child(t).and_then(Node::bytes).expect(t).to_vec();
        let id3 = |n: &Node| {
            let v = b(n, "id");
            u32::from_be_bytes([0, v[0], v[1], v[2]])
        };
        let skey = user.child("skey").expect("skey");
        Some(PreKeyBundle {
            registration_id: u32::from_be_bytes(b(&user, "registration").try_into().unwrap()),
            identity_key: PublicKey::from_slice(&b(&user, "identity")).unwrap(),
            signed_pre_key_id: id3(skey),
            signed_pre_key: PublicKey::from_slice(&b(skey, "value")).unwrap(),
            signed_pre_key_signature: b(skey, "signature").try_into().unwrap(),
            pre_key: user
                .child("key")
                .map(|k| (id3(k), PublicKey::from_slice(&b(k, "value")).unwrap())),
        })
    }

    /// Encrypts `message` for `device`, fetching a bundle when there is no session.
    pub async fn encrypt(&mut self, device: &Jid, message: &Message) -> Node {
        let key = device.to_string();
        let record = match self.sessions.get(&key) {
            Some(r) => r.clone(),
            None => {
                let bundle = self.bundle(device).await.expect("bundle");
                SessionRecord::new()
                    .initiate(&self.local, &bundle, None, &mut OsRng)
                    .expect("session")
            }
        };
        let (next, out) = record
            .encrypt(&encode_padded(message, &mut OsRng))
            .expect("encrypt");
        self.sessions.insert(key, next);
        Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", out.enc_type())
            .with_bytes(out.serialized().to_vec())
    }

    /// A 1:1 `<message>` to `to` with one `<to>` per device; the device-identity when any
    /// copy is a pkmsg.
    pub async fn direct(&mut self, id: &str, to: &Jid, devices: &[Jid], text: &str) -> Node {
        let message = text_message(text);
        let own = Message {
            device_sent_message: Some(Box::new(wa_core::proto::DeviceSentMessage {
                destination_jid: Some(to.to_string()),
                message: Some(Box::new(message.clone())),
                phash: None,
            })),
            ..Message::default()
        };
        let mut tos = Vec::new();
        for device in devices {
            let plain = if device.user == self.jid.user {
                &own
            } else {
                &message
            };
            let enc = self.encrypt(device, plain).await;
            tos.push(
                Node::new("to")
                    .with_attr("jid", device.clone())
                    .with_children(vec![enc]),
            );
        }
        self.stanza(id, to, tos, Vec::new())
    }

    /// `<message id to type="text"><participants>…</participants>[device-identity] extra…>`.
    pub fn stanza(&self, id: &str, to: &Jid, tos: Vec<Node>, extra: Vec<Node>) -> Node {
        let pkmsg = tos
            .iter()
            .any(|t| t.child("enc").and_then(|e| e.attr_str("type")) == Some("pkmsg"));
        let mut children = vec![Node::new("participants").with_children(tos)];
        if pkmsg {
            children.push(Node::new("device-identity").with_bytes(self.device_identity.clone()));
        }
        children.extend(extra);
        Node::new("message")
            .with_attr("id", id.to_owned())
            .with_attr("to", to.clone())
            .with_attr("type", "text")
            .with_children(children)
    }

    /// Sends and returns the server ack for `id`, acking every receipt and notification that
    /// arrives meanwhile (so a long run never owes the server anything).
    pub async fn send_and_settle(&mut self, node: &Node) -> Node {
        let id = node.attr_str("id").unwrap_or("").to_owned();
        self.client.send_node(node).await;
        loop {
            let n = self.next_stanza().await;
            match n.tag.as_ref() {
                "ack" if n.attr_str("id") == Some(&id) => return n,
                "receipt" | "notification" => self.ack(&n).await,
                _ => {}
            }
        }
    }

    /// Acks what is in the backlog and what arrives until `quiet` passes with nothing.
    pub async fn drain(&mut self, quiet: std::time::Duration) -> usize {
        let mut acked = 0;
        loop {
            let n = match self.backlog.pop_front() {
                Some(n) => n,
                None => match tokio::time::timeout(quiet, self.client.recv()).await {
                    Ok(n) => n,
                    Err(_) => return acked,
                },
            };
            if matches!(n.tag.as_ref(), "receipt" | "notification") {
                self.ack(&n).await;
                acked += 1;
            }
        }
    }

    /// Sends and returns the server ack for `id`.
    pub async fn send_for_ack(&mut self, node: &Node) -> Node {
        let id = node.attr_str("id").unwrap_or("").to_owned();
        self.client.send_node(node).await;
        loop {
            let n = self.next("ack").await;
            if n.attr_str("id") == Some(&id) && n.attr_str("class") == Some("message") {
                return n;
            }
        }
    }

    /// Decrypts a pairwise `<enc>` from `from` (its device JID string).
    pub fn decrypt(&mut self, from: &str, enc: &Node) -> Message {
        let record = self.sessions.get(from).cloned().unwrap_or_default();
        let bytes = enc.bytes().expect("enc bytes");
        let done = match enc.attr_str("type") {
            Some("pkmsg") => record
                .decrypt_prekey_message(&self.local, &self.prekeys, None, bytes, &mut OsRng)
                .expect("pkmsg decrypts"),
            _ => record
                .decrypt_message(bytes, &mut OsRng)
                .expect("msg decrypts"),
        };
        if let Some(id) = done.consumed_pre_key {
            self.prekeys.one_time.remove(&id);
        }
        self.sessions.insert(from.to_owned(), done.record);
        decode_padded(&done.plaintext).expect("plaintext")
    }

    /// Our sender key's distribution message for `group`, made on first use.
    pub fn sender_key(&mut self, group: &str) -> SenderKeyDistributionMessage {
        let record = self.sender_keys.get(group).cloned().unwrap_or_default();
        let (record, skdm) = record.own_distribution_message(&mut OsRng);
        self.sender_keys.insert(group.to_owned(), record);
        skdm
    }

    /// Encrypts `text` with our sender key for `group`.
    pub fn group_encrypt(&mut self, group: &str, text: &str) -> Vec<u8> {
        let record = self.sender_keys.get(group).cloned().expect("sender key");
        let done = record
            .encrypt(&encode_padded(&text_message(text), &mut OsRng), &mut OsRng)
            .expect("group encrypt");
        self.sender_keys.insert(group.to_owned(), done.record);
        done.message
    }

    /// Answers a delivered stanza with its receipt (which is also its ack).
    pub async fn receipt(&mut self, message: &Node, kind: Option<&'static str>) {
        let mut node = Node::new("receipt")
            .with_attr("id", message.attr_str("id").unwrap_or("").to_owned())
            .with_attr("to", message.attr("from").expect("from").clone());
        if let Some(p) = message.attr("participant") {
            node = node.with_attr("participant", p.clone());
        }
        if let Some(kind) = kind {
            node = node.with_attr("type", kind);
        }
        self.client.send_node(&node).await;
    }

    /// Acks a receipt or notification.
    pub async fn ack(&mut self, stanza: &Node) {
        let mut node = Node::new("ack")
            .with_attr("id", stanza.attr_str("id").unwrap_or("").to_owned())
            .with_attr("class", stanza.tag.to_string())
            .with_attr("to", stanza.attr("from").expect("from").clone());
        if let Some(p) = stanza.attr("participant") {
            node = node.with_attr("participant", p.clone());
        }
        self.client.send_node(&node).await;
    }
}

pub fn text_message(text: &str) -> Message {
    Message {
        conversation: Some(text.to_owned()),
        ..Message::default()
    }
}

pub fn wa_sim_attr_jid(node: &Node, key: &str) -> Jid {
    let v = node.attr(key).expect(key);
    match v.as_jid() {
        Some(j) => j.clone(),
        None => v.as_str().expect("text").parse().expect("jid"),
    }
}

pub fn pn(user: &str) -> Jid {
    Jid::new(user.to_owned(), Server::Pn)
}

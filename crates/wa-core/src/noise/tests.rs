//! The handshake against the transcript of protocol.md §2.7 byte for byte, both sides against
//! each other, and every rejection with its own error.

use prost::Message as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::cert::{build_cert_chain, CertChainSpec};
use super::*;
use crate::signal::{KeyPair, PublicKey, SignatureError};

const VECTOR: &str = include_str!("../../tests/vectors/noise-xx.json");

struct Vector(Value);

impl Vector {
    fn load() -> Self {
        Self(serde_json::from_str(VECTOR).unwrap())
    }
    fn bytes(&self, name: &str) -> Vec<u8> {
        let field = format!("{name}_hex");
        hex::decode(self.0[field.as_str()].as_str().unwrap()).unwrap()
    }
    fn ascii(&self, name: &str) -> Vec<u8> {
        let field = format!("{name}_ascii");
        self.0[field.as_str()].as_str().unwrap().as_bytes().to_vec()
    }
    fn key32(&self, name: &str) -> [u8; 32] {
        self.bytes(name).try_into().unwrap()
    }
    fn key_pair(&self, name: &str) -> KeyPair {
        KeyPair::from_private_bytes(self.key32(&format!("{name}_priv")))
    }
}

#[test]
fn initiator_reproduces_the_vector_transcript() {
    let v = Vector::load();
    assert_eq!(
        &PROTOCOL_NAME[..],
        v.0["protocol_name_ascii"].as_str().unwrap().as_bytes()
    );
    let client_e = v.key_pair("client_ephemeral");
    let client_s = v.key_pair("client_static");
    assert_eq!(client_e.public.as_bytes(), &v.key32("client_e_pub"));
    assert_eq!(client_s.public.as_bytes(), &v.key32("client_s_pub"));

    let (initiator, hello) = Initiator::start(client_s, client_e);
    let first_message = FrameEncoder::client().encode(&hello).unwrap();
    assert_eq!(first_message, v.bytes("first_ws_message"));
    let trace = initiator.trace();
    assert_eq!(trace[0].h, v.key32("h_after_prologue"));
    assert_eq!(trace[1].h, v.key32("h_after_client_e"));

    let received = initiator
        .read_server_hello(&v.bytes("server_hello_handshake_message"))
        .unwrap();
    assert_eq!(
        received.server_static().as_bytes(),
        &v.key32("server_s_pub")
    );
    assert_eq!(received.cert_payload(), v.ascii("cert_payload").as_slice());
    let trace = received.trace();
    assert_eq!(trace[2].h, v.key32("h_after_server_e"));
    assert_eq!((trace[3].ck, trace[3].k), (v.key32("ck1"), v.key32("k1")));
    assert_eq!(trace[4].h, v.key32("h_after_server_static"));
    assert_eq!((trace[5].ck, trace[5].k), (v.key32("ck2"), v.key32("k2")));
    assert_eq!(trace[6].h, v.key32("h_after_cert"));
    assert_eq!(received.handshake_hash(), v.key32("h_after_cert"));

    let (finish, mut transport, state) = received
        .finish_with_state(&v.ascii("client_payload"))
        .unwrap();
    assert_eq!(finish, v.bytes("client_finish_handshake_message"));
    let decoded = crate::proto::HandshakeMessage::decode(finish.as_slice()).unwrap();
    let client_finish = decoded.client_finish.unwrap();
    assert_eq!(
        client_finish.r#static.unwrap(),
        v.bytes("client_finish_static")
    );
    assert_eq!(
        client_finish.payload.unwrap(),
        v.bytes("client_finish_payload")
    );
    assert_eq!(
        (state.trace[8].ck, state.trace[8].k),
        (v.key32("ck3"), v.key32("k3"))
    );
    assert_eq!(state.trace[9].h, v.key32("h_final"));
    assert_eq!(state.trace.len(), 10);
    assert_eq!(transport.handshake_hash(), v.key32("h_final"));
    assert_eq!(
        state.split(),
        (v.key32("client_write_key"), v.key32("client_read_key"))
    );

    let plaintext = v.bytes("transport_plaintext");
    assert_eq!(
        transport.encrypt(&plaintext).unwrap(),
        v.bytes("transport_ciphertext_counter0")
    );
    assert_eq!(
        transport.encrypt(&plaintext).unwrap(),
        v.bytes("transport_ciphertext_counter1")
    );
    assert_eq!(transport.writer.counter(), 2);
}

#[test]
fn responder_reproduces_the_vector_transcript() {
    let v = Vector::load();
    let responder = Responder::new(v.key_pair("server_static"), v.key_pair("server_ephemeral"));
    let mut decoder = FrameDecoder::server();
    decoder.push(&v.bytes("first_ws_message")).unwrap();
    let hello = decoder.next_frame().unwrap().unwrap();
    assert_eq!(decoder.next_frame().unwrap(), None);

    let (awaiting, server_hello) = responder
        .read_client_hello(&hello, &v.ascii("cert_payload"))
        .unwrap();
    assert_eq!(server_hello, v.bytes("server_hello_handshake_message"));
    assert_eq!(awaiting.handshake_hash(), v.key32("h_after_cert"));

    let finished = awaiting
        .read_client_finish(&v.bytes("client_finish_handshake_message"))
        .unwrap();
    assert_eq!(finished.client_static.as_bytes(), &v.key32("client_s_pub"));
    assert_eq!(finished.client_payload, v.ascii("client_payload"));
    let mut transport = finished.transport;
    assert_eq!(transport.handshake_hash(), v.key32("h_final"));
    for name in [
        "transport_ciphertext_counter0",
        "transport_ciphertext_counter1",
    ] {
        assert_eq!(
            transport.decrypt(&v.bytes(name)).unwrap(),
            v.bytes("transport_plaintext")
        );
    }
}

const NOW: u64 = 1_750_000_000;

/// A simulated server: its root, intermediate and static keys, and a valid chain for them.
struct Server {
    root: KeyPair,
    intermediate: KeyPair,
    static_key: KeyPair,
}

fn spec() -> CertChainSpec {
    CertChainSpec {
        intermediate_serial: 7,
        intermediate_not_before: NOW - 1000,
        intermediate_not_after: NOW + 100_000,
        leaf_serial: 42,
        leaf_not_before: NOW - 10,
        leaf_not_after: NOW + 10_000,
    }
}

impl Server {
    fn new(rng: &mut StdRng) -> Self {
        Self {
            root: KeyPair::generate(rng),
            intermediate: KeyPair::generate(rng),
            static_key: KeyPair::generate(rng),
        }
    }

    fn chain(&self, spec: &CertChainSpec, rng: &mut StdRng) -> Vec<u8> {
        build_cert_chain(
            &self.root.private,
            &self.intermediate,
            &self.static_key.public,
            spec,
            rng,
        )
    }
}

/// Runs a handshake through the framing with random chunking; returns both transports.
fn handshake(
    server: &Server,
    cert_payload: &[u8],
    rng: &mut StdRng,
) -> Result<(TransportCipher, ClientFinished), NoiseError> {
    let client_static = KeyPair::generate(rng);
    let client_static_pub = client_static.public;
    let (initiator, hello) = Initiator::start_with_rng(client_static, rng);
    let mut client_out = FrameEncoder::client();
    let mut server_in = FrameDecoder::server();
    let mut server_out = FrameEncoder::server();
    let mut client_in = FrameDecoder::client();

    let hello = pipe(&client_out.encode(&hello)?, &mut server_in, rng);
    let responder = Responder::with_rng(server.static_key.clone(), rng);
    let (awaiting, server_hello) = responder.read_client_hello(&hello, cert_payload)?;
    let server_hello = pipe(&server_out.encode(&server_hello)?, &mut client_in, rng);

    let received = initiator.read_server_hello(&server_hello)?;
    received.verify_cert_chain(&server.root.public, NOW)?;
    let (finish, client_transport) = received.finish(b"payload")?;
    let finish = pipe(&client_out.encode(&finish)?, &mut server_in, rng);
    let finished = awaiting.read_client_finish(&finish)?;
    assert_eq!(finished.client_static, client_static_pub);
    assert_eq!(finished.client_payload, b"payload");
    Ok((client_transport, finished))
}

/// Delivers `bytes` to `decoder` in random pieces and returns the one frame they hold.
fn pipe(bytes: &[u8], decoder: &mut FrameDecoder, rng: &mut StdRng) -> Vec<u8> {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let take = rng.gen_range(1..=rest.len());
        decoder.push(&rest[..take]).unwrap();
        rest = &rest[take..];
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    assert_eq!(frames.len(), 1);
    frames.pop().unwrap()
}

#[test]
fn initiator_and_responder_agree_and_exchange_frames() {
    let mut rng = StdRng::seed_from_u64(1);
    let server = Server::new(&mut rng);
    let chain = server.chain(&spec(), &mut rng);
    let (client, finished) = handshake(&server, &chain, &mut rng).unwrap();
    assert_eq!(client.handshake_hash(), finished.transport.handshake_hash());

    let (mut client_writer, mut client_reader) = client.split();
    let (mut server_writer, mut server_reader) = finished.transport.split();
    let mut to_server = FrameEncoder::client();
    let mut at_server = FrameDecoder::server();
    let mut to_client = FrameEncoder::server();
    let mut at_client = FrameDecoder::client();
    for i in 0..20u8 {
        let message = vec![i; usize::from(i) * 37];
        let wire = to_server
            .encode(&client_writer.encrypt(&message).unwrap())
            .unwrap();
        let frame = pipe(&wire, &mut at_server, &mut rng);
        assert_eq!(server_reader.decrypt(&frame).unwrap(), message);

        let reply = vec![255 - i; usize::from(i) * 11 + 1];
        let wire = to_client
            .encode(&server_writer.encrypt(&reply).unwrap())
            .unwrap();
        let frame = pipe(&wire, &mut at_client, &mut rng);
        assert_eq!(client_reader.decrypt(&frame).unwrap(), reply);
    }
    assert_eq!(client_writer.counter(), 20);
    assert_eq!(server_reader.counter(), 20);
}

#[test]
fn tampered_transport_frame_is_rejected() {
    let mut rng = StdRng::seed_from_u64(2);
    let server = Server::new(&mut rng);
    let chain = server.chain(&spec(), &mut rng);
    let (mut client, mut finished) = handshake(&server, &chain, &mut rng).unwrap();
    let mut frame = client.encrypt(b"hello").unwrap();
    frame[0] ^= 1;
    assert_eq!(
        finished.transport.decrypt(&frame),
        Err(NoiseError::TransportDecrypt)
    );
}

/// A client that has sent its hello and a ServerHello for it from `server`.
fn server_hello_for(server: &Server, rng: &mut StdRng) -> (Initiator, Vec<u8>) {
    let (initiator, hello) = Initiator::start_with_rng(KeyPair::generate(rng), rng);
    let chain = server.chain(&spec(), rng);
    let responder = Responder::with_rng(server.static_key.clone(), rng);
    let (_, server_hello) = responder.read_client_hello(&hello, &chain).unwrap();
    (initiator, server_hello)
}

#[test]
fn tampered_server_hello_fails_to_decrypt() {
    let mut rng = StdRng::seed_from_u64(3);
    let server = Server::new(&mut rng);
    let (_, pristine) = server_hello_for(&server, &mut rng);
    // Offsets: 5.. is the ephemeral key, 39.. the encrypted static, the rest the payload.
    for offset in [10, 45, pristine.len() - 1] {
        let (initiator, mut server_hello) = server_hello_for(&server, &mut rng);
        server_hello[offset] ^= 0x40;
        assert_eq!(
            initiator.read_server_hello(&server_hello).err(),
            Some(NoiseError::HandshakeDecrypt),
            "offset {offset}"
        );
    }
}

#[test]
fn malformed_handshake_messages_are_rejected() {
    let mut rng = StdRng::seed_from_u64(4);
    let server = Server::new(&mut rng);
    let (initiator, _) = server_hello_for(&server, &mut rng);
    assert!(matches!(
        initiator.read_server_hello(&[0xff, 0xff]),
        Err(NoiseError::MalformedHandshake(_))
    ));
    let (initiator, _) = server_hello_for(&server, &mut rng);
    // A ClientHello is a valid HandshakeMessage without a serverHello.
    let client_hello = crate::proto::HandshakeMessage {
        client_hello: Some(Default::default()),
        ..Default::default()
    };
    assert_eq!(
        initiator
            .read_server_hello(&client_hello.encode_to_vec())
            .err(),
        Some(NoiseError::BadHandshakeMessage("serverHello"))
    );
    let responder = Responder::with_rng(server.static_key.clone(), &mut rng);
    assert_eq!(
        responder
            .read_client_hello(&client_hello.encode_to_vec(), b"")
            .err(),
        Some(NoiseError::BadHandshakeMessage("clientHello.ephemeral"))
    );
    // An all-zero ephemeral key is a low-order point.
    let weak = crate::proto::HandshakeMessage {
        client_hello: Some(crate::proto::handshake_message::ClientHello {
            ephemeral: Some(vec![0; 32]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let responder = Responder::with_rng(server.static_key.clone(), &mut rng);
    assert_eq!(
        responder
            .read_client_hello(&weak.encode_to_vec(), b"")
            .err(),
        Some(NoiseError::WeakPublicKey)
    );
}

#[test]
fn tampered_client_finish_fails_to_decrypt() {
    let mut rng = StdRng::seed_from_u64(5);
    let server = Server::new(&mut rng);
    let (initiator, hello) = Initiator::start_with_rng(KeyPair::generate(&mut rng), &mut rng);
    let responder = Responder::with_rng(server.static_key.clone(), &mut rng);
    let (awaiting, server_hello) = responder.read_client_hello(&hello, b"cert").unwrap();
    let (mut finish, _) = initiator
        .read_server_hello(&server_hello)
        .unwrap()
        .finish(b"payload")
        .unwrap();
    let last = finish.len() - 1;
    finish[last] ^= 1;
    assert_eq!(
        awaiting.read_client_finish(&finish).err(),
        Some(NoiseError::HandshakeDecrypt)
    );
}

/// The handshake with `chain` as the cert payload, verified under `root`.
fn verify_through_handshake(
    server: &Server,
    chain: &[u8],
    root: &PublicKey,
    now: u64,
    rng: &mut StdRng,
) -> Result<VerifiedCertChain, NoiseError> {
    let (initiator, hello) = Initiator::start_with_rng(KeyPair::generate(rng), rng);
    let responder = Responder::with_rng(server.static_key.clone(), rng);
    let (_, server_hello) = responder.read_client_hello(&hello, chain)?;
    initiator
        .read_server_hello(&server_hello)?
        .verify_cert_chain(root, now)
}

#[test]
fn valid_chain_verifies_with_its_details() {
    let mut rng = StdRng::seed_from_u64(6);
    let server = Server::new(&mut rng);
    let chain = server.chain(&spec(), &mut rng);
    let verified =
        verify_through_handshake(&server, &chain, &server.root.public, NOW, &mut rng).unwrap();
    assert_eq!(verified.intermediate.serial, 7);
    assert_eq!(verified.intermediate.issuer_serial, 0);
    assert_eq!(verified.intermediate.key, server.intermediate.public);
    assert_eq!(verified.leaf.serial, 42);
    assert_eq!(verified.leaf.issuer_serial, 7);
    assert_eq!(verified.leaf.key, server.static_key.public);
    // The boundaries are inclusive.
    let s = spec();
    for now in [s.leaf_not_before, s.leaf_not_after] {
        assert!(
            verify_through_handshake(&server, &chain, &server.root.public, now, &mut rng).is_ok()
        );
    }
}

#[test]
fn wrong_root_is_rejected() {
    let mut rng = StdRng::seed_from_u64(7);
    let server = Server::new(&mut rng);
    let chain = server.chain(&spec(), &mut rng);
    let other_root = KeyPair::generate(&mut rng).public;
    let expected = Err(NoiseError::IntermediateSignature(SignatureError::Mismatch));
    assert_eq!(
        verify_through_handshake(&server, &chain, &other_root, NOW, &mut rng),
        expected
    );
    // The default verifier trusts WhatsApp's root, which a simulator cannot sign under.
    assert_eq!(CertVerifier::default().root, WA_ROOT_PUBLIC_KEY);
    assert_eq!(
        hex::encode(WA_ROOT_PUBLIC_KEY.as_bytes()),
        "142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b"
    );
    assert_eq!(
        CertVerifier::default().verify(&chain, &server.static_key.public, NOW),
        expected
    );
}

#[test]
fn leaf_for_another_key_is_rejected() {
    let mut rng = StdRng::seed_from_u64(8);
    let server = Server::new(&mut rng);
    let impostor = KeyPair::generate(&mut rng).public;
    let chain = build_cert_chain(
        &server.root.private,
        &server.intermediate,
        &impostor,
        &spec(),
        &mut rng,
    );
    assert_eq!(
        verify_through_handshake(&server, &chain, &server.root.public, NOW, &mut rng),
        Err(NoiseError::LeafKeyMismatch)
    );
}

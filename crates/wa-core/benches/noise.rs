//! Transport frames (AES-256-GCM + 3-byte framing, both directions of the work) and one full
//! handshake including certificate verification. Compare with `conformance/bench-noise.mjs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use wa_core::noise::cert::{build_cert_chain, CertChainSpec};
use wa_core::noise::{FrameDecoder, FrameEncoder, Initiator, Responder, TransportCipher};
use wa_core::signal::KeyPair;

const FRAME_PAYLOAD: usize = 1024;
const NOW: u64 = 1_750_000_000;

fn frames(c: &mut Criterion) {
    let key_a = [7u8; 32];
    let key_b = [9u8; 32];
    // Two ends of one session: what one writes with key_a the other reads with key_a.
    let (mut writer, _) = TransportCipher::new(&key_a, &key_b, [0; 32]).split();
    let (_, mut reader) = TransportCipher::new(&key_b, &key_a, [0; 32]).split();
    let mut encoder = FrameEncoder::server();
    let mut decoder = FrameDecoder::client();
    let payload = vec![0x5au8; FRAME_PAYLOAD];
    let mut buffer = Vec::with_capacity(FRAME_PAYLOAD + 16);
    let mut wire = Vec::with_capacity(FRAME_PAYLOAD + 19);

    let mut group = c.benchmark_group("transport_frame_1KiB");
    group.throughput(Throughput::Bytes(FRAME_PAYLOAD as u64));
    group.bench_function("encrypt_frame_decode_decrypt", |b| {
        b.iter(|| {
            buffer.clear();
            buffer.extend_from_slice(black_box(&payload));
            writer.encrypt_in_place(&mut buffer).unwrap();
            wire.clear();
            encoder.encode_into(&buffer, &mut wire).unwrap();

            decoder.push(black_box(&wire)).unwrap();
            let mut frame = decoder.next_frame().unwrap().unwrap();
            reader.decrypt_in_place(&mut frame).unwrap();
            black_box(frame)
        })
    });
    group.bench_function("encrypt_frame", |b| {
        b.iter(|| {
            buffer.clear();
            buffer.extend_from_slice(black_box(&payload));
            writer.encrypt_in_place(&mut buffer).unwrap();
            wire.clear();
            encoder.encode_into(&buffer, &mut wire).unwrap();
            black_box(&wire);
        })
    });
    group.finish();
}

fn handshake(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let root = KeyPair::generate(&mut rng);
    let intermediate = KeyPair::generate(&mut rng);
    let server_static = KeyPair::generate(&mut rng);
    let client_static = KeyPair::generate(&mut rng);
    let spec = CertChainSpec {
        intermediate_serial: 1,
        intermediate_not_before: NOW - 1,
        intermediate_not_after: NOW + 1,
        leaf_serial: 2,
        leaf_not_before: NOW - 1,
        leaf_not_after: NOW + 1,
    };
    let chain = build_cert_chain(
        &root.private,
        &intermediate,
        &server_static.public,
        &spec,
        &mut rng,
    );

    c.bench_function("handshake_xx_both_sides_with_cert_verify", |b| {
        b.iter(|| {
            let (initiator, hello) = Initiator::start_with_rng(client_static.clone(), &mut rng);
            let responder = Responder::with_rng(server_static.clone(), &mut rng);
            let (awaiting, server_hello) = responder.read_client_hello(&hello, &chain).unwrap();
            let received = initiator.read_server_hello(&server_hello).unwrap();
            received.verify_cert_chain(&root.public, NOW).unwrap();
            let (finish, transport) = received.finish(b"client payload").unwrap();
            let finished = awaiting.read_client_finish(&finish).unwrap();
            black_box((transport, finished))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = frames, handshake
}
criterion_main!(benches);

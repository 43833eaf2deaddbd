//! Binary node codec speed on a realistic mix: pings, receipts, acks, and messages with 1 KiB
//! and 64 KiB of ciphertext. `conformance/bench-codec.mjs` builds the same nodes for Baileys.
//!
//! Times are CPU time of the benchmark thread (see `support/cpu_time.rs`), so they hold on a
//! busy machine. `conformance/bench-codec.mjs` reports CPU time too.
//!
//! `cargo bench -p wa-core --bench codec -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;

use cpu_time::CpuTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wa_core::binary::{self, Jid, Node, Server};

const MSG_ID: &str = "3EB0ABCDEF0123456789AB";

fn peer() -> Jid {
    Jid::new("15551234567", Server::Pn)
}

fn corpus() -> Vec<(&'static str, Node)> {
    let ping = Node::new("iq")
        .with_attr("id", "1234.5678-9")
        .with_attr("xmlns", "w:p")
        .with_attr("type", "get")
        .with_attr("to", Jid::server_jid(Server::Pn))
        .with_children(vec![Node::new("ping")]);
    let receipt = Node::new("receipt")
        .with_attr("from", Jid::with_device("15551234567", 3, Server::Pn))
        .with_attr("id", MSG_ID)
        .with_attr("t", "1752021890")
        .with_attr("type", "read");
    let ack = Node::new("ack")
        .with_attr("class", "receipt")
        .with_attr("id", MSG_ID)
        .with_attr("to", Jid::with_device("15551234567", 3, Server::Pn))
        .with_attr("type", "read");
    let message = |size: usize| {
        let ciphertext: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        Node::new("message")
            .with_attr("id", MSG_ID)
            .with_attr("to", peer())
            .with_attr("type", "text")
            .with_attr("t", "1752021890")
            .with_children(vec![
                Node::new("enc")
                    .with_attr("v", "2")
                    .with_attr("type", "msg")
                    .with_bytes(ciphertext),
                Node::new("device-identity").with_bytes(vec![7u8; 180]),
            ])
    };
    vec![
        ("ping", ping),
        ("receipt", receipt),
        ("ack", ack),
        ("message_1k", message(1024)),
        ("message_64k", message(64 * 1024)),
    ]
}

fn codec(c: &mut Criterion<CpuTime>) {
    let corpus = corpus();
    let mut encode = c.benchmark_group("encode");
    for (name, node) in &corpus {
        let len = binary::encode(node).unwrap().len();
        println!("{name}: {len} bytes");
        encode.throughput(Throughput::Bytes(len as u64));
        encode.bench_function(*name, |b| {
            b.iter(|| binary::encode(black_box(node)).unwrap())
        });
    }
    encode.finish();
    // The client decodes decrypted frames it owns, so content is sliced, not copied.
    let mut decode = c.benchmark_group("decode");
    for (name, node) in &corpus {
        let frame = bytes::Bytes::from(binary::encode(node).unwrap());
        decode.throughput(Throughput::Bytes(frame.len() as u64));
        decode.bench_function(*name, |b| {
            b.iter(|| binary::decode_shared(black_box(frame.clone())).unwrap())
        });
    }
    decode.finish();
    // For comparison: decoding from a borrowed slice copies the content.
    let mut copy = c.benchmark_group("decode_copy");
    for (name, node) in &corpus[3..] {
        let frame = binary::encode(node).unwrap();
        copy.throughput(Throughput::Bytes(frame.len() as u64));
        copy.bench_function(*name, |b| {
            b.iter(|| binary::decode(black_box(&frame)).unwrap())
        });
    }
    copy.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime::default());
    targets = codec
}
criterion_main!(benches);

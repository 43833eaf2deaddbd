//! Binary node codec speed on a realistic mix: pings, receipts, acks, and messages with 1 KiB
//! and 64 KiB of ciphertext (`support/corpus.rs`). `conformance/bench-codec.mjs` builds the same
//! nodes for Baileys, and `conformance/codec-table.mjs` runs both, plus instruction counts under
//! callgrind, and prints the README's table.
//!
//! Times are CPU time of the benchmark thread (see `support/cpu_time.rs`), so they hold on a
//! busy machine. `conformance/bench-codec.mjs` reports CPU time too.
//!
//! `cargo bench -p wa-core --bench codec -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;

use cpu_time::CpuTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wa_core::binary;

fn codec(c: &mut Criterion<CpuTime>) {
    let corpus = corpus::corpus();
    let frames: Vec<_> = corpus
        .iter()
        .map(|(name, node)| (*name, bytes::Bytes::from(binary::encode(node).unwrap())))
        .collect();
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
    // Decoding as the client's routing does it: the frame checked whole, then a borrowed view
    // of the top node; nothing is allocated.
    let mut view = c.benchmark_group("view");
    for (name, frame) in &frames {
        view.throughput(Throughput::Bytes(frame.len() as u64));
        view.bench_function(*name, |b| {
            b.iter(|| {
                let mut inflated = Vec::new();
                binary::view(black_box(frame), &mut inflated).map(|v| v.tag().len())
            })
        });
    }
    view.finish();
    // The view, then what routing reads: the `id` and `type` attributes.
    let mut route = c.benchmark_group("view_route");
    for (name, frame) in &frames {
        route.throughput(Throughput::Bytes(frame.len() as u64));
        route.bench_function(*name, |b| {
            b.iter(|| {
                let mut inflated = Vec::new();
                let v = binary::view(black_box(frame), &mut inflated).unwrap();
                (
                    v.attr_str("id").map(|s| s.len()),
                    v.attr_str("type").map(|s| s.len()),
                )
            })
        });
    }
    route.finish();
    // The owned tree, for callers that keep a node; content is sliced from the frame.
    let mut decode = c.benchmark_group("decode_owned");
    for (name, frame) in &frames {
        decode.throughput(Throughput::Bytes(frame.len() as u64));
        decode.bench_function(*name, |b| {
            b.iter(|| binary::decode_shared(black_box(frame.clone())).unwrap())
        });
    }
    decode.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime::default());
    targets = codec
}
criterion_main!(benches);

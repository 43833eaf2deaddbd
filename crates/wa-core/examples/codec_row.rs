//! Runs one codec operation on one row of the benchmark corpus N times, for instruction counts
//! under callgrind, which are stable where CPU times on a shared machine are not:
//!
//! `valgrind --tool=callgrind target/release/examples/codec_row decode ping 10000`
//!
//! Operations: `encode` (node → frame), `view` (check a frame and get the borrowed view of its
//! top node), `view_route` (the view, then its tag, `id` and `type`, as the client's routing
//! reads them), `view_walk` (the view, then every attribute and child read), `decode` (frame → owned tree sharing the frame's bytes). Running it with N = 0 gives the
//! set-up cost to subtract. `conformance/codec-table.mjs` runs every row and makes the table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::process::ExitCode;

use bytes::Bytes;
use wa_core::binary::{self, ContentRef, NodeRef};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, row, n] = args.as_slice() else {
        eprintln!("usage: codec_row encode|view|view_route|view_walk|decode ROW N");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("N must be a number");
        return ExitCode::from(2);
    };
    let Some((_, node)) = corpus::corpus().into_iter().find(|(name, _)| name == row) else {
        eprintln!("no row {row}");
        return ExitCode::from(2);
    };
    let frame = match binary::encode(&node) {
        Ok(f) => Bytes::from(f),
        Err(e) => {
            eprintln!("row {row} does not encode: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match op.as_str() {
            "encode" => binary::encode(black_box(&node)).map_or(0, |b| b.len()),
            "view" => view(black_box(&frame)),
            "view_route" => view_route(black_box(&frame)),
            "view_walk" => view_walk(black_box(&frame)),
            "decode" => {
                binary::decode_shared(black_box(frame.clone())).map_or(0, |n| n.attrs.len())
            }
            _ => {
                eprintln!("unknown operation {op}");
                return ExitCode::from(2);
            }
        };
    }
    black_box(sink);
    ExitCode::SUCCESS
}

/// The view alone: the frame checked, the top node's tag at hand.
pub fn view(frame: &[u8]) -> usize {
    let mut inflated = Vec::new();
    binary::view(frame, &mut inflated).map_or(0, |v| v.tag().len())
}

/// What routing reads: the tag, the id and the type.
pub fn view_route(frame: &[u8]) -> usize {
    let mut inflated = Vec::new();
    match binary::view(frame, &mut inflated) {
        Ok(v) => {
            let id = v.attr_str("id").map_or(0, |id| id.len());
            let kind = v.attr_str("type").map_or(0, |t| t.len());
            v.tag().len() + id + kind
        }
        Err(_) => 0,
    }
}

/// Every attribute and child, as a handler that reads the whole stanza would.
pub fn view_walk(frame: &[u8]) -> usize {
    let mut inflated = Vec::new();
    binary::view(frame, &mut inflated).map_or(0, |v| walk(&v))
}

fn walk(v: &NodeRef<'_>) -> usize {
    let mut n = v.tag().len() + v.attrs().map(|(k, _)| k.len()).sum::<usize>();
    match v.content() {
        ContentRef::None => {}
        ContentRef::Value(value) => n += value.as_bytes().map_or(0, <[u8]>::len),
        ContentRef::Nodes(children) => n += children.map(|c| walk(&c)).sum::<usize>(),
    }
    n
}

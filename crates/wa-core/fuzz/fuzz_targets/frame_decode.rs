//! Arbitrary bytes, cut into arbitrary chunks, into the FrameDecoder. Besides never panicking,
//! the decoder must yield the same frames and the same error as when it is fed byte by byte.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wa_core::noise::{FrameDecoder, NoiseError};

/// Feeds `chunks` one by one, draining frames after each, until the first error.
fn decode<'a>(
    mut decoder: FrameDecoder,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Vec<u8>>, Option<NoiseError>) {
    let mut frames = Vec::new();
    for chunk in chunks {
        if let Err(error) = decoder.push(chunk) {
            return (frames, Some(error));
        }
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(error) => return (frames, Some(error)),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    // The frame limit is at least 256 so that a chunk (at most 255 bytes) plus one partial
    // frame always fits the buffer: then chunking cannot change the outcome.
    let max_frame_len = 256 + usize::from(control & 0x7f) * 64;
    let server = control & 0x80 != 0;
    let make = || {
        let decoder = if server {
            FrameDecoder::server()
        } else {
            FrameDecoder::client()
        };
        decoder.with_max_frame_len(max_frame_len)
    };

    // Chunking: each chunk is a length byte followed by up to that many bytes.
    let mut chunks = Vec::new();
    let mut payload = Vec::new();
    let mut input = rest;
    while let Some((&len, tail)) = input.split_first() {
        let take = usize::from(len).min(tail.len());
        chunks.push(&tail[..take]);
        payload.extend_from_slice(&tail[..take]);
        input = &tail[take..];
    }

    let chunked = decode(make(), chunks.iter().copied());
    // Byte by byte is the reference: it never holds more than one partial frame.
    let bytewise = decode(make(), payload.chunks(1));
    assert_eq!(chunked, bytewise);
    for frame in &chunked.0 {
        assert!(frame.len() <= max_frame_len);
    }
});

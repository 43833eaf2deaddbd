//! The byte stream under Noise: every frame is a 3-byte big-endian length and that many payload
//! bytes, and the client starts the stream with the `WA 06 03` intro header (protocol.md §1).
//!
//! WebSocket messages are not frame boundaries: one message may hold several frames, and a frame
//! (even its header) may be split over several messages. The decoder therefore buffers bytes and
//! only yields a frame once all of it has arrived.

use super::NoiseError;

/// `"WA"`, magic 6, dictionary version 3: sent once by the client, before its first frame.
pub const INTRO_HEADER: [u8; 4] = [0x57, 0x41, 0x06, 0x03];

/// Bytes in a frame's length prefix.
pub const FRAME_HEADER_LEN: usize = 3;

/// The largest payload a 3-byte length can describe.
pub const MAX_FRAME_LEN: usize = (1 << 24) - 1;

/// The 3-byte length prefix for a payload of `len` bytes.
pub fn frame_header(len: usize) -> Result<[u8; FRAME_HEADER_LEN], NoiseError> {
    if len > MAX_FRAME_LEN {
        return Err(NoiseError::FrameTooLarge {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    let bytes = (len as u32).to_be_bytes();
    Ok([bytes[1], bytes[2], bytes[3]])
}

/// Writes frames, putting the intro header in front of the client's first one.
#[derive(Debug, Clone)]
pub struct FrameEncoder {
    intro_pending: bool,
}

impl FrameEncoder {
    /// The client's encoder: the first frame is preceded by [`INTRO_HEADER`].
    pub fn client() -> Self {
        Self {
            intro_pending: true,
        }
    }

    /// The server's encoder: plain frames only.
    pub fn server() -> Self {
        Self {
            intro_pending: false,
        }
    }

    /// Appends the framed `payload` (and the intro header if still due) to `out`.
    pub fn encode_into(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), NoiseError> {
        let header = frame_header(payload.len())?;
        if self.intro_pending {
            out.extend_from_slice(&INTRO_HEADER);
            self.intro_pending = false;
        }
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        Ok(())
    }

    /// Frames `payload` into a new buffer, ready to be one WebSocket message.
    pub fn encode(&mut self, payload: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let mut out = Vec::with_capacity(INTRO_HEADER.len() + FRAME_HEADER_LEN + payload.len());
        self.encode_into(payload, &mut out)?;
        Ok(out)
    }
}

/// Where the decoder stands with respect to the intro header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intro {
    /// The server waits for the client's intro; this many of its bytes have matched so far.
    Expecting(usize),
    /// Frames only from here on.
    Done,
}

/// Reassembles frames from arbitrarily chunked bytes.
///
/// Feed each received chunk with [`FrameDecoder::push`], then call [`FrameDecoder::next_frame`]
/// until it returns `None`. After an error the stream is unusable; every later call returns the
/// same error.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    /// Offset of the first unconsumed byte; consumed bytes are dropped lazily to avoid a copy
    /// per frame.
    start: usize,
    intro: Intro,
    max_frame_len: usize,
    max_buffer: usize,
    failed: Option<NoiseError>,
}

impl FrameDecoder {
    /// A decoder for frames the server sends to the client.
    pub fn client() -> Self {
        Self::new(Intro::Done)
    }

    /// A decoder for the client's stream, which must begin with [`INTRO_HEADER`].
    pub fn server() -> Self {
        Self::new(Intro::Expecting(0))
    }

    fn new(intro: Intro) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            intro,
            max_frame_len: MAX_FRAME_LEN,
            max_buffer: default_max_buffer(MAX_FRAME_LEN),
            failed: None,
        }
    }

    /// Lowers the largest accepted frame (bounded by [`MAX_FRAME_LEN`]) and sizes the buffer
    /// limit to one partial frame plus one chunk of up to a frame's size.
    pub fn with_max_frame_len(mut self, max_frame_len: usize) -> Self {
        self.max_frame_len = max_frame_len.min(MAX_FRAME_LEN);
        self.max_buffer = default_max_buffer(self.max_frame_len);
        self
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Adds received bytes. Fails if the unconsumed bytes would exceed the buffer limit, which
    /// only happens when the caller does not drain frames or the peer floods us.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), NoiseError> {
        self.check_failed()?;
        let len = self.buffered().saturating_add(chunk.len());
        if len > self.max_buffer {
            return self.fail(NoiseError::BufferFull {
                len,
                max: self.max_buffer,
            });
        }
        if self.start > 0 && self.start >= self.buffer.len() / 2 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    /// The next complete frame payload, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, NoiseError> {
        self.check_failed()?;
        if let Intro::Expecting(matched) = self.intro {
            if !self.consume_intro(matched)? {
                return Ok(None);
            }
        }
        let available = &self.buffer[self.start..];
        let Some(header) = available.get(..FRAME_HEADER_LEN) else {
            return Ok(None);
        };
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        if len > self.max_frame_len {
            return self.fail(NoiseError::FrameTooLarge {
                len,
                max: self.max_frame_len,
            });
        }
        // The length is only trusted for slicing bytes that are already here; nothing is
        // allocated from it.
        let Some(payload) = available.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
            return Ok(None);
        };
        let frame = payload.to_vec();
        self.start += FRAME_HEADER_LEN + len;
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// Matches as much of the intro header as has arrived; true once all of it has.
    fn consume_intro(&mut self, mut matched: usize) -> Result<bool, NoiseError> {
        while matched < INTRO_HEADER.len() {
            let Some(&byte) = self.buffer.get(self.start) else {
                self.intro = Intro::Expecting(matched);
                return Ok(false);
            };
            if byte != INTRO_HEADER[matched] {
                return self.fail(NoiseError::BadIntroHeader);
            }
            self.start += 1;
            matched += 1;
        }
        self.intro = Intro::Done;
        Ok(true)
    }

    fn check_failed(&self) -> Result<(), NoiseError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn fail<T>(&mut self, error: NoiseError) -> Result<T, NoiseError> {
        self.failed = Some(error.clone());
        self.buffer = Vec::new();
        self.start = 0;
        Err(error)
    }
}

fn default_max_buffer(max_frame_len: usize) -> usize {
    2 * (max_frame_len + FRAME_HEADER_LEN) + INTRO_HEADER.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(decoder: &mut FrameDecoder) -> Result<Vec<Vec<u8>>, NoiseError> {
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame()? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn intro_is_written_once_by_the_client_only() {
        let mut client = FrameEncoder::client();
        assert_eq!(client.encode(b"ab").unwrap(), b"WA\x06\x03\x00\x00\x02ab");
        assert_eq!(client.encode(b"c").unwrap(), b"\x00\x00\x01c");
        assert_eq!(FrameEncoder::server().encode(b"").unwrap(), b"\x00\x00\x00");
    }

    #[test]
    fn oversized_payload_cannot_be_framed() {
        assert_eq!(frame_header(MAX_FRAME_LEN).unwrap(), [0xff, 0xff, 0xff]);
        assert_eq!(
            frame_header(MAX_FRAME_LEN + 1),
            Err(NoiseError::FrameTooLarge {
                len: 1 << 24,
                max: MAX_FRAME_LEN
            })
        );
        // The intro must not be consumed by a frame that was refused.
        let mut client = FrameEncoder::client();
        assert!(client.encode(&vec![0; 1 << 24]).is_err());
        assert_eq!(&client.encode(b"").unwrap()[..4], &INTRO_HEADER);
    }

    #[test]
    fn decoder_waits_for_a_complete_frame() {
        let mut decoder = FrameDecoder::client();
        decoder.push(&[0x00, 0x00]).unwrap();
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(&[0x03, b'a', b'b']).unwrap();
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(&[b'c', 0x00, 0x00, 0x01, b'd', 0x00]).unwrap();
        assert_eq!(
            drain(&mut decoder).unwrap(),
            vec![b"abc".to_vec(), b"d".to_vec()]
        );
        assert_eq!(decoder.buffered(), 1);
    }

    #[test]
    fn server_decoder_strips_the_intro_and_rejects_anything_else() {
        let mut decoder = FrameDecoder::server();
        decoder.push(b"WA").unwrap();
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(b"\x06\x03\x00\x00\x01x").unwrap();
        assert_eq!(decoder.next_frame().unwrap(), Some(b"x".to_vec()));

        let mut decoder = FrameDecoder::server();
        decoder.push(b"WA\x05\x03\x00\x00\x01x").unwrap();
        assert_eq!(decoder.next_frame(), Err(NoiseError::BadIntroHeader));
        // The failure is sticky: later bytes cannot resynchronise a broken stream.
        assert_eq!(decoder.push(b"x"), Err(NoiseError::BadIntroHeader));
        assert_eq!(decoder.next_frame(), Err(NoiseError::BadIntroHeader));
    }

    #[test]
    fn lengths_over_the_limit_are_rejected_before_the_payload_arrives() {
        let mut decoder = FrameDecoder::client().with_max_frame_len(100);
        decoder.push(&[0x00, 0x00, 0x65]).unwrap();
        assert_eq!(
            decoder.next_frame(),
            Err(NoiseError::FrameTooLarge { len: 101, max: 100 })
        );
    }

    #[test]
    fn buffer_is_bounded() {
        let mut decoder = FrameDecoder::client().with_max_frame_len(10);
        // One partial frame plus a chunk of a frame's size fits (2 × 13 + 4 = 30 bytes).
        decoder.push(&[0x00, 0x00, 0x0a]).unwrap();
        decoder.push(&[0u8; 27]).unwrap();
        assert_eq!(
            decoder.push(&[0u8; 1]),
            Err(NoiseError::BufferFull { len: 31, max: 30 })
        );
    }

    /// Splits fuzz input the way `fuzz/fuzz_targets/frame_decode.rs` does: a control byte,
    /// then chunks each prefixed by their length.
    fn fuzz_chunks(data: &[u8]) -> (u8, Vec<&[u8]>) {
        let (&control, mut input) = data.split_first().unwrap();
        let mut chunks = Vec::new();
        while let Some((&len, tail)) = input.split_first() {
            let take = usize::from(len).min(tail.len());
            chunks.push(&tail[..take]);
            input = &tail[take..];
        }
        (control, chunks)
    }

    fn decode_all(
        mut decoder: FrameDecoder,
        chunks: &[&[u8]],
    ) -> (Vec<Vec<u8>>, Option<NoiseError>) {
        let mut frames = Vec::new();
        for chunk in chunks {
            if let Err(e) = decoder.push(chunk) {
                return (frames, Some(e));
            }
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(e) => return (frames, Some(e)),
                }
            }
        }
        (frames, None)
    }

    /// Found by the fuzzer: pushing everything in one chunk hits the buffer bound before the
    /// oversized frame header is seen, so chunkings must be compared with the byte-by-byte
    /// decode (which never buffers more than one partial frame), not with one big push.
    #[test]
    fn fuzz_regression_chunked_equals_bytewise() {
        let data = include_bytes!(
            "../../fuzz/regressions/frame_decode/crash-8de857352f5588ae97bcae8d799ee27a7db2115c"
        );
        let (control, chunks) = fuzz_chunks(data);
        let max = 256 + usize::from(control & 0x7f) * 64;
        let make = || FrameDecoder::client().with_max_frame_len(max);
        let whole: Vec<u8> = chunks.concat();
        let bytewise: Vec<&[u8]> = whole.chunks(1).collect();
        let chunked = decode_all(make(), &chunks);
        assert_eq!(chunked, decode_all(make(), &bytewise));
        assert!(matches!(chunked.1, Some(NoiseError::FrameTooLarge { .. })));
        assert!(matches!(
            decode_all(make(), &[&whole]).1,
            Some(NoiseError::BufferFull { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_chunking_yields_the_same_frames(
            payloads in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300), 0..12),
            cuts in proptest::collection::vec(any::<u16>(), 0..40),
        ) {
            let mut encoder = FrameEncoder::client();
            let mut wire = Vec::new();
            for payload in &payloads {
                encoder.encode_into(payload, &mut wire).unwrap();
            }
            let mut cuts: Vec<usize> = cuts
                .into_iter()
                .map(|c| usize::from(c) % (wire.len() + 1))
                .collect();
            cuts.push(wire.len());
            cuts.sort_unstable();

            let mut decoder = FrameDecoder::server();
            let mut frames = Vec::new();
            let mut at = 0;
            for cut in cuts {
                decoder.push(&wire[at..cut]).unwrap();
                at = cut;
                frames.extend(drain(&mut decoder).unwrap());
            }
            prop_assert_eq!(frames, payloads);
            prop_assert_eq!(decoder.buffered(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            chunks in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..64), 0..16),
        ) {
            let mut decoder = FrameDecoder::server().with_max_frame_len(1000);
            for chunk in &chunks {
                if decoder.push(chunk).is_err() {
                    break;
                }
                if drain(&mut decoder).is_err() {
                    break;
                }
            }
        }
    }
}

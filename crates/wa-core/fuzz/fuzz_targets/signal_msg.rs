//! Arbitrary bytes, or altered valid messages, as a `msg` to a fixed established session:
//! parsing and decrypting must never panic; whatever decrypts must be one of the messages Alice
//! actually sent.
#![no_main]

#[path = "support/signal_session.rs"]
mod signal_session;

use libfuzzer_sys::fuzz_target;
use signal_session::{input, session, FixedRng};

fuzz_target!(|data: &[u8]| {
    let session = session();
    let bytes = input(data, &session.messages);
    let _ = wa_core::signal::SignalMessage::parse(&bytes);
    if let Ok(out) = session.record.decrypt_message(&bytes, &mut FixedRng(1)) {
        assert!(
            [&b"one"[..], b"two", b"three"].contains(&out.plaintext.as_slice()),
            "decrypted to something Alice never sent"
        );
    }
});

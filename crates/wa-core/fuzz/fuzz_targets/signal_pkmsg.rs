//! Arbitrary bytes, or altered valid prekey messages, as a `pkmsg` to Bob, both with his
//! established record and with none: parsing, X3DH and decrypting must never panic; whatever
//! decrypts must be one of the messages Alice actually sent.
#![no_main]

#[path = "support/signal_session.rs"]
mod signal_session;

use libfuzzer_sys::fuzz_target;
use signal_session::{input, session, FixedRng};
use wa_core::signal::SessionRecord;

fuzz_target!(|data: &[u8]| {
    let session = session();
    let bytes = input(data, &session.prekey_messages);
    let _ = wa_core::signal::PreKeySignalMessage::parse(&bytes);
    let empty = SessionRecord::new();
    for record in [&session.record, &empty] {
        let result = record.decrypt_prekey_message(
            &session.bob.us,
            &session.bob,
            None,
            &bytes,
            &mut FixedRng(2),
        );
        if let Ok(out) = result {
            assert!(
                [&b"second"[..], b"fresh"].contains(&out.plaintext.as_slice()),
                "decrypted to something Alice never sent"
            );
        }
    }
});

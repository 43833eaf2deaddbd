//! Arbitrary bytes as the ClientPayload of a Noise ClientFinish, through the simulator's strict
//! validator: it must never panic, and whatever it accepts must be accepted again, with the
//! same verdict, after re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wa_core::payload::validate_client_payload;
use wa_core::proto::ProtoMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(valid) = validate_client_payload(data) {
        let again = validate_client_payload(&valid.payload.encode_to_vec())
            .expect("a re-encoded valid payload stays valid");
        assert_eq!(again.kind, valid.kind);
        assert_eq!(again.app_version, valid.app_version);
    }
});

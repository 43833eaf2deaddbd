//! Arbitrary bytes as frame plaintext: decoding must never panic, and whatever decodes must
//! encode and decode back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wa_core::binary;

fuzz_target!(|data: &[u8]| {
    let shared = binary::decode_shared(data.to_vec().into());
    if let Ok(node) = binary::decode(data) {
        assert_eq!(shared.as_ref().ok(), Some(&node));
        let bytes = binary::encode(&node).expect("a decoded node always encodes");
        let again = binary::decode(&bytes).expect("encoded bytes always decode");
        assert_eq!(again, node);
    } else {
        assert!(shared.is_err());
    }
});

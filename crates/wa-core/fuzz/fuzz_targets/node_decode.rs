//! Arbitrary bytes as frame plaintext: decoding must never panic, the owned decoder, the shared
//! decoder and the borrowed view must accept and refuse the same bytes with the same error, and
//! whatever decodes must encode and decode back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wa_core::binary;

fuzz_target!(|data: &[u8]| {
    let shared = binary::decode_shared(data.to_vec().into());
    let mut inflated = Vec::new();
    let viewed = binary::view(data, &mut inflated).map(|v| v.to_node());
    let owned = binary::decode(data);
    assert_eq!(format!("{owned:?}"), format!("{viewed:?}"));
    if let Ok(node) = owned {
        assert_eq!(shared.as_ref().ok(), Some(&node));
        let bytes = binary::encode(&node).expect("a decoded node always encodes");
        let again = binary::decode(&bytes).expect("encoded bytes always decode");
        assert_eq!(again, node);
    } else {
        assert!(shared.is_err());
    }
});

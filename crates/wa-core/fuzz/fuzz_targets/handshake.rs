//! Arbitrary bytes at each point where a handshake reads the network: as a ServerHello to an
//! initiator, as a ClientHello or ClientFinish to a responder, and as the certificate chain a
//! well-formed ServerHello carries.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wa_core::noise::{Initiator, Responder};
use wa_core::signal::KeyPair;

/// Client static, client ephemeral, server static, server ephemeral, and an unrelated root.
/// Computed once: deriving public keys would otherwise dominate every run.
fn keys() -> &'static [KeyPair; 5] {
    static KEYS: OnceLock<[KeyPair; 5]> = OnceLock::new();
    KEYS.get_or_init(|| [1u8, 2, 3, 4, 5].map(|seed| KeyPair::from_private_bytes([seed; 32])))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let [client_static, client_ephemeral, server_static, server_ephemeral, root] = keys().clone();
    match mode % 4 {
        0 => {
            let (initiator, _) = Initiator::start(client_static, client_ephemeral);
            if let Ok(received) = initiator.read_server_hello(input) {
                let _ = received.finish(b"payload");
            }
        }
        1 => {
            let responder = Responder::new(server_static, server_ephemeral);
            let _ = responder.read_client_hello(input, b"cert");
        }
        2 => {
            let (_, hello) = Initiator::start(client_static, client_ephemeral);
            let responder = Responder::new(server_static, server_ephemeral);
            if let Ok((awaiting, _)) = responder.read_client_hello(&hello, b"cert") {
                let _ = awaiting.read_client_finish(input);
            }
        }
        _ => {
            let server_static_pub = server_static.public;
            let (initiator, hello) = Initiator::start(client_static, client_ephemeral);
            let responder = Responder::new(server_static, server_ephemeral);
            let Ok((_, server_hello)) = responder.read_client_hello(&hello, input) else {
                return;
            };
            let received = match initiator.read_server_hello(&server_hello) {
                Ok(received) => received,
                Err(error) => panic!("our own ServerHello was rejected: {error}"),
            };
            assert_eq!(received.cert_payload(), input);
            assert_eq!(received.server_static(), &server_static_pub);
            let _ = received.verify_cert_chain(&root.public, 1);
        }
    }
});

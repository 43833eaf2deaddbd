//! The certificate authority: a root that survives restarts, and a leaf (the Noise static key)
//! reissued before it expires, which clients verify under the same root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;
use wa_sim::{SimConfig, Simulator, STATE_FILE};

#[tokio::test]
async fn the_root_survives_a_restart_and_an_expiring_leaf_is_reissued() {
    let dir = std::env::temp_dir().join(format!("wa-sim-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = SimConfig {
        state_dir: Some(dir.clone()),
        ..SimConfig::default()
    };
    let first = Simulator::new(config.clone()).expect("first start");
    let root = first.root_public_key().expect("root");
    let leaf = first.server_static_key();
    drop(first);

    let again = Simulator::new(config.clone()).expect("restart");
    assert_eq!(again.root_public_key().expect("root"), root);
    assert_eq!(again.server_static_key(), leaf, "a valid leaf is kept");
    drop(again);

    // Let the leaf expire within the renewal margin.
    let path = dir.join(STATE_FILE);
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    state["leaf"]["not_after"] = serde_json::json!(now_unix() + 60);
    std::fs::write(&path, serde_json::to_vec(&state).expect("json")).expect("write");

    let renewed = Simulator::new(config).expect("restart");
    assert_eq!(renewed.root_public_key().expect("root"), root);
    assert_ne!(renewed.server_static_key(), leaf, "the leaf was reissued");
    // A client verifying under the same root accepts the new chain (checked in the handshake).
    let (keys, jid) = pair(&renewed).await;
    let (_client, success) = login_client(&renewed, &keys, &jid).await;
    assert_eq!(success.tag, "success");
    let _ = std::fs::remove_dir_all(&dir);
}

//! Where the session store's key comes from, for every reader of the data folder: the running
//! service, the offline status and history views, and the support bundle. A module of its own
//! so those readers need not depend on the service (nor the service on them in a cycle).

/// The keychain service name Herald's store key is kept under.
pub const KEYCHAIN_SERVICE: &str = "herald";

/// Where the session store's key comes from. `HERALD_KEYCHAIN=off` keeps the keychain out
/// (servers whose keychain would prompt, test runs on a desktop).
pub fn store_keys(keychain: Option<&str>) -> wa_client::store::KeySource {
    let off = std::env::var("HERALD_KEYCHAIN").is_ok_and(|v| v == "off" || v == "0");
    match keychain {
        Some(service) if !off => wa_client::store::KeySource::with_keychain(service),
        _ => wa_client::store::KeySource::default(),
    }
}

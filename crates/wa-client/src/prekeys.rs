//! Prekey upkeep (protocol.md §6.2): ask the server how many one-time prekeys it holds; upload
//! 812 when it has none and a refill when it has fewer than 5, always with fresh ids that were
//! stored before the upload.

use std::sync::{Arc, Mutex};

use wa_core::binary::Node;
use wa_core::signal::{KeyPair, PrivateKey, DJB_TYPE};

use crate::config::PrekeyConfig;
use crate::mutex::lock;
use crate::socket::{IqError, SocketHandle};
use crate::stanzas::server;
use crate::store::{Credentials, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum PrekeyError {
    #[error(transparent)]
    Iq(#[from] IqError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the prekey count answer has no <count value>")]
    BadCount,
}

/// How many keys to upload when the server holds `count`.
pub(crate) fn to_upload(count: u32, config: &PrekeyConfig) -> u32 {
    if count == 0 {
        config.initial_upload
    } else if count < config.refill_below {
        config.refill_batch
    } else {
        0
    }
}

/// `<iq xmlns="encrypt" type="get" to=s.whatsapp.net><count/></iq>`.
fn count_query() -> Node {
    Node::new("iq")
        .with_attr("xmlns", "encrypt")
        .with_attr("type", "get")
        .with_attr("to", server())
        .with_children(vec![Node::new("count")])
}

/// The server's count, from a `<count value>` answer or an `encrypt` notification.
pub(crate) fn parse_count(node: &Node) -> Option<u32> {
    node.child("count")?.attr_str("value")?.parse().ok()
}

fn id3(id: u32) -> Vec<u8> {
    id.to_be_bytes()[1..].to_vec()
}

/// The upload iq (children in the order the references send them).
pub(crate) fn upload_node(creds: &Credentials, keys: &[(u32, [u8; 32])]) -> Node {
    let list = keys
        .iter()
        .map(|(id, private)| {
            let public = KeyPair::from_private(PrivateKey::from_bytes(*private)).public;
            Node::new("key").with_children(vec![
                Node::new("id").with_bytes(id3(*id)),
                Node::new("value").with_bytes(public.as_bytes().to_vec()),
            ])
        })
        .collect();
    let spk = &creds.signed_prekey;
    Node::new("iq")
        .with_attr("xmlns", "encrypt")
        .with_attr("type", "set")
        .with_attr("to", server())
        .with_children(vec![
            Node::new("registration").with_bytes(creds.registration_id.to_be_bytes().to_vec()),
            Node::new("type").with_bytes(vec![DJB_TYPE]),
            Node::new("identity").with_bytes(creds.identity.public.as_bytes().to_vec()),
            Node::new("list").with_children(list),
            Node::new("skey").with_children(vec![
                Node::new("id").with_bytes(id3(spk.id)),
                Node::new("value").with_bytes(spk.key.public.as_bytes().to_vec()),
                Node::new("signature").with_bytes(spk.signature.to_vec()),
            ]),
        ])
}

/// Queries the count (unless `known`) and uploads what is missing. Returns how many were
/// uploaded.
pub(crate) async fn ensure(
    socket: &SocketHandle,
    store: &Arc<Mutex<Store>>,
    creds: &Credentials,
    config: &PrekeyConfig,
    known: Option<u32>,
    now_ms: u64,
) -> Result<u32, PrekeyError> {
    let count = match known {
        Some(c) => c,
        None => parse_count(&socket.iq(count_query()).await?).ok_or(PrekeyError::BadCount)?,
    };
    let want = to_upload(count, config);
    if want == 0 {
        return Ok(0);
    }
    // Stored first: a key the server hands out must be one we can decrypt with.
    let keys = lock(store).add_prekeys(want, now_ms, || {
        PrivateKey::generate(&mut rand::rngs::OsRng).to_bytes()
    })?;
    socket.iq(upload_node(creds, &keys)).await?;
    let ids: Vec<u32> = keys.iter().map(|k| k.0).collect();
    lock(store).mark_prekeys_uploaded(&ids)?;
    tracing::info!(count = want, server_had = count, "prekeys uploaded");
    Ok(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_sizes_follow_the_policy() {
        let c = PrekeyConfig::default();
        assert_eq!(to_upload(0, &c), 812);
        assert_eq!(to_upload(4, &c), 50);
        assert_eq!(to_upload(5, &c), 0);
        assert_eq!(to_upload(100, &c), 0);
    }

    #[test]
    fn upload_node_shape() {
        let creds = Credentials::generate(&mut rand::thread_rng(), 0);
        let n = upload_node(&creds, &[(0x010203, [1; 32]), (4, [2; 32])]);
        let kids: Vec<&str> = n.children().iter().map(|c| c.tag.as_ref()).collect();
        assert_eq!(kids, ["registration", "type", "identity", "list", "skey"]);
        let list = n.child("list").unwrap();
        assert_eq!(list.children().len(), 2);
        assert_eq!(
            list.children()[0].child("id").unwrap().bytes(),
            Some(&[1u8, 2, 3][..])
        );
        assert_eq!(n.child("registration").unwrap().bytes().unwrap().len(), 4);
        assert_eq!(
            n.child("skey")
                .unwrap()
                .child("signature")
                .unwrap()
                .bytes()
                .unwrap()
                .len(),
            64
        );
        let count = Node::new("iq").with_children(vec![Node::new("count").with_attr("value", "3")]);
        assert_eq!(parse_count(&count), Some(3));
    }
}

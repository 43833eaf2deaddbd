//! One WhatsApp account's live connection, on tokio.
//!
//! This crate will own the WebSocket transport, the Noise socket with its reader and writer
//! tasks and IQ waiters, the supervisor (the only owner of the socket, and its connection state
//! machine), keepalive, pairing, login, prekey upkeep, the WhatsApp Web version fetcher, the
//! engine's event stream and the SQLite session store.

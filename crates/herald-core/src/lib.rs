//! Herald's service layer.
//!
//! This crate will tie the connection engine to the app's database: the reconnect history (one
//! row per disconnect with its cause and decision), the health snapshot, and later the message
//! scheduler. Both the desktop shell and `herald-cli` sit on top of it.

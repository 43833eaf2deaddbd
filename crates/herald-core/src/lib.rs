//! Herald's service layer.
//!
//! Ties the connection engine to the app's database: the reconnect history (one row per
//! disconnect with its cause and decision), the online/offline timeline, the health snapshot,
//! the user's settings, when to notify, and the scheduler. The desktop shell, `herald-cli`
//! and its HTTP daemon sit on top of it.

pub mod alerts;
pub mod db;
#[cfg(any(feature = "demo", test))]
pub mod demo;
pub mod export;
pub mod health;
pub mod history;
pub mod memory;
pub mod number_check;
pub mod offline;
pub mod presentation;
mod pump;
pub mod qr;
pub mod redact;
pub mod schedule;
pub mod scheduler;
pub mod schedules;
pub mod service;
pub mod settings;
pub mod store_keys;
pub mod support_bundle;
pub mod timeline;

//! Keepalive.

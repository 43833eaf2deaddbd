//! Prekeys.

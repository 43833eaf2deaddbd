//! Pairing.

//! Pairing a companion with the phone: the QR string, the ADV identity checks on both sides,
//! and the phone-number ("pairing code") alternative.

pub mod adv;
pub mod code;
pub mod phone;
pub mod qr;

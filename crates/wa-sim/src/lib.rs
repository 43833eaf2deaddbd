//! A WhatsApp server simulator.
//!
//! This crate will speak the server side of the real protocol (Noise responder with its own
//! certificate chain, pairing with a simulated phone, login, pings, prekeys, acks), be at least
//! as strict as the real server, and inject every fault the client must survive: each stream
//! error and failure reason, stalls, drops and late acks. Tests use it as a library; demo mode
//! runs it as a binary.

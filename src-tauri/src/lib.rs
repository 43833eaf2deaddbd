//! The desktop shell.
pub fn run() {}

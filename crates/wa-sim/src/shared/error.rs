//! The simulator's own errors (starting, persisting); protocol rejections are not errors here
//! but outcomes sent to the client and logged.

use std::path::PathBuf;

/// Why the simulator could not start or persist its state.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file system operation failed.
    #[error("could not {what} ({path})")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not valid JSON of the expected shape.
    #[error("state file {path} is not valid")]
    StateJson {
        /// The file.
        path: PathBuf,
        /// serde's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A stored key is not 32 bytes of hex.
    #[error("stored key {0} is damaged")]
    CorruptState(&'static str),
    /// Binding the listener failed.
    #[error("could not listen on 127.0.0.1:{port}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configured world (contacts, groups) is inconsistent.
    #[error("the configured world is invalid")]
    World(#[source] crate::shared::world::WorldError),
    /// The HTTP server stopped with an error.
    #[error("HTTP server failed")]
    Serve(#[source] std::io::Error),
}

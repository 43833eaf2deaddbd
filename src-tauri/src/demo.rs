//! Demo mode's simulator, when this build has it. Built with `--features demo` it is
//! herald-core's; without, production builds do not link the simulator and `--demo` says so.

#[cfg(feature = "demo")]
pub use herald_core::demo::{Demo, DemoError, DemoFault};

#[cfg(not(feature = "demo"))]
pub use absent::{Demo, DemoError, DemoFault};

#[cfg(not(feature = "demo"))]
mod absent {
    use std::path::Path;

    use herald_core::service::ServerTarget;

    /// No simulator in this build: the type has no values, so every use of one is
    /// unreachable by construction.
    pub enum Demo {}

    /// No fault can be injected without a simulator.
    pub enum DemoFault {}

    /// Why demo mode is not available.
    #[derive(Debug, thiserror::Error)]
    pub enum DemoError {
        #[error("this build of Herald has no demo mode (build it with --features demo)")]
        NotBuiltIn,
    }

    impl std::str::FromStr for DemoFault {
        type Err = DemoError;
        fn from_str(_: &str) -> Result<Self, DemoError> {
            Err(DemoError::NotBuiltIn)
        }
    }

    impl Demo {
        pub async fn start(_state_dir: &Path) -> Result<Demo, DemoError> {
            Err(DemoError::NotBuiltIn)
        }

        pub fn target(&self) -> ServerTarget {
            match *self {}
        }

        pub fn scan(&self, _qr: Option<&str>) -> Result<(), DemoError> {
            match *self {}
        }

        pub fn inject(&self, _fault: DemoFault) -> Result<(), DemoError> {
            match *self {}
        }
    }
}

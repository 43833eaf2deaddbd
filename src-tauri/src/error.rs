//! Errors as the window receives them: `{code, message, advice, field?}`.

use serde::Serialize;

/// A command's failure, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiError {
    /// A stable key (`invalid_setting`, `invalid_phone`, `not_connected`, …).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// What the user can do about it (may be empty).
    pub advice: String,
    /// The form field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl UiError {
    pub fn new(code: &'static str, message: impl Into<String>, advice: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            advice: advice.into(),
            field: None,
        }
    }
}

impl From<herald_core::service::ServiceError> for UiError {
    fn from(e: herald_core::service::ServiceError) -> Self {
        use herald_core::service::ServiceError as E;
        use wa_client::CommandError as C;
        match e {
            E::InvalidSetting(bad) => UiError {
                code: "invalid_setting",
                message: bad.problem.clone(),
                advice: String::new(),
                field: Some(bad.field),
            },
            E::Command(C::InvalidPhone(why)) => UiError::new(
                "invalid_phone",
                format!("That phone number is not valid: {why}."),
                "Enter it with the country code, e.g. +1 555 123 4567.",
            ),
            E::Command(C::AlreadyPaired) => UiError::new(
                "already_linked",
                "This computer is already linked.",
                "Unlink it first to link another phone.",
            ),
            E::Command(C::Stopped) => UiError::new(
                "stopped",
                "The connection engine has stopped.",
                "Restart Herald.",
            ),
            E::Command(why @ (C::Failed(_) | C::PairingEnded | C::Interrupted | C::Superseded)) => {
                UiError::new(
                    "command_failed",
                    why.to_string(),
                    "Check the connection and try again.",
                )
            }
            E::Db(e) => UiError::new(
                "database",
                e.to_string(),
                "Restart Herald; if it persists, report it.",
            ),
            E::Start(e) => UiError::new("start", e.to_string(), ""),
            E::Write { path, source } => UiError::new(
                "write_failed",
                format!("Could not write {}: {source}.", path.display()),
                "Check that the folder exists and is writable.",
            ),
        }
    }
}

impl From<crate::demo::DemoError> for UiError {
    fn from(e: crate::demo::DemoError) -> Self {
        UiError::new("demo", e.to_string(), "")
    }
}

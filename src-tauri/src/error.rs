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
            E::Draft(bad) => UiError {
                code: "invalid_schedule",
                message: bad.message.clone(),
                advice: String::new(),
                field: Some(bad.field),
            },
            E::Schedule(e) => schedule_error(e),
            E::Messaging(e) => UiError::new(
                "not_available",
                format!("{}.", capitalised(&e.to_string())),
                "Your groups are listed while Herald is online; you can also paste a group's address.",
            ),
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

fn schedule_error(e: herald_core::schedule::store::StoreError) -> UiError {
    use herald_core::schedule::store::StoreError as S;
    let field = |code, field, e: &S| UiError {
        code,
        message: format!("{}.", capitalised(&e.to_string())),
        advice: String::new(),
        field: Some(field),
    };
    match e {
        S::InThePast { .. } => field("invalid_schedule", "time", &e),
        S::NothingAhead => field("invalid_schedule", "until", &e),
        S::EmptyText | S::TextTooLong(_) => field("invalid_schedule", "text", &e),
        S::NotFound(_) => UiError::new(
            "not_found",
            format!("{}.", capitalised(&e.to_string())),
            "It may have been deleted; the list is up to date now.",
        ),
        S::WrongStatus { .. } => UiError::new(
            "wrong_status",
            format!("{}.", capitalised(&e.to_string())),
            "",
        ),
        S::SendingNow(_) => UiError::new("busy", format!("{}.", capitalised(&e.to_string())), ""),
        S::NoSender => UiError::new(
            "no_sender",
            format!("{}.", capitalised(&e.to_string())),
            "Your schedules are kept.",
        ),
        other => UiError::new(
            "database",
            other.to_string(),
            "Restart Herald; if it persists, report it.",
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl From<crate::demo::DemoError> for UiError {
    fn from(e: crate::demo::DemoError) -> Self {
        UiError::new("demo", e.to_string(), "")
    }
}

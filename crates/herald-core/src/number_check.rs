//! "Checked on WhatsApp before saving": whether a schedule's phone number has WhatsApp,
//! asked of the engine while the person composes, and the refusal of a number that does not.
//!
//! Only a definite "no" from WhatsApp refuses a schedule. When Herald cannot ask (offline,
//! not linked, no answer in time) the schedule is saved and the number is checked when its
//! message goes, as every send's contact query does.

use serde::Serialize;
use wa_client::LookupError;
use wa_core::pair::code::PhoneNumber;

use crate::schedule::draft::{parse_recipient, DraftError, ScheduleDraft};
use crate::schedule::recipient::Recipient;
use crate::service::{Service, ServiceError};

/// What is known about a recipient's number. JSON: `{"status":"on_whatsapp","phone":"+49…",
/// "jid":"49…@s.whatsapp.net"}`, `{"status":"not_on_whatsapp","phone":…}`,
/// `{"status":"unchecked","phone":…,"reason":"offline","message":…}`, `{"status":"not_a_number"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "status",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum NumberCheck {
    /// WhatsApp has an account for the number; `jid` is its user.
    // Named by hand: the derived snake case would split "WhatsApp".
    #[serde(rename = "on_whatsapp")]
    OnWhatsApp { phone: String, jid: String },
    /// WhatsApp says the number has no account: a message to it cannot be delivered.
    #[serde(rename = "not_on_whatsapp")]
    NotOnWhatsApp { phone: String },
    /// Herald could not ask now; the number is checked when the message is sent.
    Unchecked {
        phone: String,
        reason: Unchecked,
        message: String,
    },
    /// A user's or group's address, not a number: nothing to ask.
    NotANumber,
}

/// Why a number was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unchecked {
    /// Not connected to WhatsApp.
    Offline,
    /// Not linked to a phone yet.
    NotLinked,
    /// WhatsApp did not answer in time.
    Timeout,
    /// The query failed otherwise (refused, unreadable, the engine stopping).
    Failed,
}

/// Why a lookup failure leaves the number unchecked. Pure.
pub fn unchecked_because(e: &LookupError) -> Unchecked {
    match e {
        LookupError::Offline => Unchecked::Offline,
        LookupError::NotLinked => Unchecked::NotLinked,
        LookupError::Timeout(_) => Unchecked::Timeout,
        LookupError::Stopped | LookupError::Query(_) | LookupError::Store(_) => Unchecked::Failed,
    }
}

/// The refusal of a draft whose number WhatsApp does not know; `None` lets it be saved.
/// Pure.
pub fn refusal(check: &NumberCheck) -> Option<DraftError> {
    match check {
        NumberCheck::NotOnWhatsApp { phone } => Some(DraftError {
            field: "to",
            message: format!(
                "{phone} is not on WhatsApp, so a message to it cannot be delivered. Check the number."
            ),
            source: None,
        }),
        NumberCheck::OnWhatsApp { .. }
        | NumberCheck::Unchecked { .. }
        | NumberCheck::NotANumber => None,
    }
}

impl Service {
    /// Asks WhatsApp whether the draft's recipient (a phone number, with `region` for a
    /// national one) has an account. A number that is not valid is refused as the form's
    /// `to` field; the other recipients need no check.
    pub async fn check_number(
        &self,
        to: &str,
        region: Option<&str>,
    ) -> Result<NumberCheck, ServiceError> {
        let phone = match parse_recipient(to, region)? {
            Recipient::Phone(phone) => phone,
            Recipient::User(_) | Recipient::Lid(_) | Recipient::Group(_) => {
                return Ok(NumberCheck::NotANumber)
            }
        };
        // E.164 from the phone-number library: `+` and 7 to 15 digits.
        let digits = PhoneNumber::parse(phone.trim_start_matches('+')).map_err(|e| DraftError {
            field: "to",
            message: format!("{phone} is not a number WhatsApp can use: {e}."),
            source: Some(Box::new(e)),
        })?;
        Ok(match self.engine().await.lookup(&digits).await {
            Ok(contact) if contact.on_whatsapp => NumberCheck::OnWhatsApp {
                phone,
                jid: contact.jid.to_string(),
            },
            Ok(_) => NumberCheck::NotOnWhatsApp { phone },
            Err(e) => {
                tracing::debug!(error = %e, "number not checked");
                NumberCheck::Unchecked {
                    phone,
                    reason: unchecked_because(&e),
                    message: e.to_string(),
                }
            }
        })
    }

    /// [`Service::create_schedule`] after the number is checked on WhatsApp: refused (as the
    /// `to` field) when WhatsApp says it has no account; saved when it has one or Herald
    /// cannot ask now.
    pub async fn create_schedule_checked(
        &self,
        draft: &ScheduleDraft,
    ) -> Result<crate::schedule::view::ScheduleView, ServiceError> {
        self.refuse_unknown_number(draft).await?;
        self.create_schedule(draft)
    }

    /// [`Service::edit_schedule`] after the same check.
    pub async fn edit_schedule_checked(
        &self,
        id: crate::schedule::store::ScheduleId,
        draft: &ScheduleDraft,
    ) -> Result<crate::schedule::view::ScheduleView, ServiceError> {
        self.refuse_unknown_number(draft).await?;
        self.edit_schedule(id, draft)
    }

    async fn refuse_unknown_number(&self, draft: &ScheduleDraft) -> Result<(), ServiceError> {
        // Every other field first: a form with a wrong date is not worth a query.
        draft.check(self.inner_scheduler().now())?;
        let check = self
            .check_number(&draft.to, draft.region.as_deref())
            .await?;
        match refusal(&check) {
            Some(refused) => Err(refused.into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_definite_no_refuses() {
        let phone = || "+4915123456789".to_owned();
        let table = [
            (
                NumberCheck::OnWhatsApp {
                    phone: phone(),
                    jid: "4915123456789@s.whatsapp.net".into(),
                },
                false,
            ),
            (NumberCheck::NotOnWhatsApp { phone: phone() }, true),
            (
                NumberCheck::Unchecked {
                    phone: phone(),
                    reason: Unchecked::Offline,
                    message: String::new(),
                },
                false,
            ),
            (NumberCheck::NotANumber, false),
        ];
        for (check, refused) in table {
            let got = refusal(&check);
            assert_eq!(got.is_some(), refused, "{check:?}");
            if let Some(e) = got {
                assert_eq!(e.field, "to");
                assert!(e.message.contains("+4915123456789 is not on WhatsApp"));
            }
        }
    }

    #[test]
    fn lookup_failures_name_their_reason() {
        use std::time::Duration;
        let table = [
            (LookupError::Offline, Unchecked::Offline),
            (LookupError::NotLinked, Unchecked::NotLinked),
            (
                LookupError::Timeout(Duration::from_secs(10)),
                Unchecked::Timeout,
            ),
            (LookupError::Stopped, Unchecked::Failed),
        ];
        for (e, want) in table {
            assert_eq!(unchecked_because(&e), want, "{e}");
        }
    }

    #[test]
    fn checks_serialize_with_a_status_tag() {
        let v = serde_json::to_value(NumberCheck::Unchecked {
            phone: "+4915123456789".into(),
            reason: Unchecked::Offline,
            message: "not connected to WhatsApp".into(),
        })
        .unwrap();
        assert_eq!(v["status"], "unchecked");
        assert_eq!(v["reason"], "offline");
        assert_eq!(v["phone"], "+4915123456789");
        let v = serde_json::to_value(NumberCheck::NotANumber).unwrap();
        assert_eq!(v["status"], "not_a_number");
        let v = serde_json::to_value(NumberCheck::OnWhatsApp {
            phone: "+4915123456789".into(),
            jid: "4915123456789@s.whatsapp.net".into(),
        })
        .unwrap();
        assert_eq!(v["status"], "on_whatsapp");
        assert_eq!(v["jid"], "4915123456789@s.whatsapp.net");
        let v = serde_json::to_value(NumberCheck::NotOnWhatsApp {
            phone: "+4915123456780".into(),
        })
        .unwrap();
        assert_eq!(v["status"], "not_on_whatsapp");
    }
}

//! Who a schedule sends to: a phone number (validated, kept in E.164), a user's JID (phone
//! number or LID) or a group's JID.

use std::fmt;
use std::str::FromStr;

use phonenumber::Mode;
use wa_core::binary::{Jid, Server};

/// A checked recipient.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// `+` and digits, E.164.
    Phone(String),
    /// `digits@s.whatsapp.net`.
    User(String),
    /// `digits@lid`.
    Lid(String),
    /// `id@g.us`.
    Group(String),
}

/// Why a recipient was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("{input:?} is not a phone number: {source}")]
    Unparsable {
        input: String,
        #[source]
        source: phonenumber::ParseError,
    },
    #[error("{0:?} is not a valid phone number for its country")]
    InvalidNumber(String),
    #[error("{0:?} is not a user or group address (digits@s.whatsapp.net, digits@lid, id@g.us)")]
    BadJid(String),
    #[error("stored recipient kind {0:?} is unknown")]
    UnknownKind(String),
    #[error("{0:?} is not a country code (use a two-letter one such as DE)")]
    UnknownRegion(String),
}

/// A country a phone number can be typed in: its ISO 3166 code and calling code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Country {
    pub region: String,
    pub calling_code: u16,
}

/// Every country in the phone-number library's metadata, by region code.
pub fn countries() -> Vec<Country> {
    crate::memory::note_work();
    let mut all: Vec<Country> = phonenumber::metadata::DATABASE
        .iter()
        // "001" and the like are non-geographic numbering plans, not countries to pick.
        .filter(|m| m.id().len() == 2 && m.id().bytes().all(|b| b.is_ascii_uppercase()))
        .map(|m| Country {
            region: m.id().to_owned(),
            calling_code: m.country_code(),
        })
        .collect();
    all.sort_by(|a, b| a.region.cmp(&b.region));
    all
}

/// How many of the phone-number library's compiled rules are held now.
pub fn compiled_rules() -> usize {
    match phonenumber::metadata::DATABASE.cache().lock() {
        Ok(cache) => cache.len(),
        Err(_) => 0,
    }
}

/// Drops the phone-number library's compiled rules (it compiles each on first use and keeps
/// up to 100, megabytes in all); the next check compiles what it needs again. The library's
/// metadata itself stays: it is a global the library never frees.
pub fn forget_compiled_rules() {
    // A poisoned lock means a check panicked inside the library, which then panics on every
    // use anyway; nothing to clear then.
    if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
        cache.clear();
    }
}

impl Recipient {
    /// Parses what a person typed: `+49 151 2345 6789` (with `+` and the country code), or a
    /// JID.
    pub fn parse(input: &str) -> Result<Recipient, RecipientError> {
        let input = input.trim();
        if input.contains('@') {
            return parse_jid(input);
        }
        crate::memory::note_work();
        // Without a region the library needs the `+`; bare digits are taken as international.
        let text = if input.starts_with('+') {
            input.to_owned()
        } else {
            format!("+{input}")
        };
        let number =
            phonenumber::parse(None, &text).map_err(|source| RecipientError::Unparsable {
                input: input.to_owned(),
                source,
            })?;
        if !phonenumber::is_valid(&number) {
            return Err(RecipientError::InvalidNumber(input.to_owned()));
        }
        Ok(Recipient::Phone(
            number.format().mode(Mode::E164).to_string(),
        ))
    }

    /// Parses a number as written in `region` (`DE`, `0151 23456789`); a number with `+` is
    /// read as international whatever the region.
    pub fn parse_national(region: &str, input: &str) -> Result<Recipient, RecipientError> {
        let id: phonenumber::country::Id = region
            .trim()
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| RecipientError::UnknownRegion(region.to_owned()))?;
        crate::memory::note_work();
        let input = input.trim();
        let number =
            phonenumber::parse(Some(id), input).map_err(|source| RecipientError::Unparsable {
                input: input.to_owned(),
                source,
            })?;
        if !phonenumber::is_valid(&number) {
            return Err(RecipientError::InvalidNumber(input.to_owned()));
        }
        Ok(Recipient::Phone(
            number.format().mode(Mode::E164).to_string(),
        ))
    }

    /// From the database's two columns.
    pub fn from_stored(kind: &str, value: &str) -> Result<Recipient, RecipientError> {
        Ok(match kind {
            "phone" => Recipient::Phone(value.to_owned()),
            "user" => Recipient::User(value.to_owned()),
            "lid" => Recipient::Lid(value.to_owned()),
            "group" => Recipient::Group(value.to_owned()),
            other => return Err(RecipientError::UnknownKind(other.to_owned())),
        })
    }

    /// The kind column.
    pub fn kind(&self) -> &'static str {
        match self {
            Recipient::Phone(_) => "phone",
            Recipient::User(_) => "user",
            Recipient::Lid(_) => "lid",
            Recipient::Group(_) => "group",
        }
    }

    /// The value column (and what a person sees).
    pub fn value(&self) -> &str {
        match self {
            Recipient::Phone(v) | Recipient::User(v) | Recipient::Lid(v) | Recipient::Group(v) => v,
        }
    }

    /// The chat this goes to, as a JID: one chat per phone number or JID, which the gate's
    /// per-chat spacing keys on.
    pub fn chat_jid(&self) -> String {
        match self {
            Recipient::Phone(e164) => {
                format!("{}@s.whatsapp.net", e164.trim_start_matches('+'))
            }
            Recipient::User(j) | Recipient::Lid(j) | Recipient::Group(j) => j.clone(),
        }
    }
}

fn parse_jid(input: &str) -> Result<Recipient, RecipientError> {
    let bad = || RecipientError::BadJid(input.to_owned());
    let jid = Jid::from_str(input).map_err(|_| bad())?;
    if jid.device != 0 || jid.agent != 0 || jid.user.is_empty() {
        return Err(bad());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = jid.to_string();
    match jid.server {
        Server::Pn if digits(&jid.user) => Ok(Recipient::User(canonical)),
        Server::Lid if digits(&jid.user) => Ok(Recipient::Lid(canonical)),
        // Old groups are `creator-timestamp@g.us`, new ones a long number.
        Server::Group if jid.user.split('-').all(digits) => Ok(Recipient::Group(canonical)),
        _ => Err(bad()),
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_validated_and_normalised() {
        assert_eq!(
            Recipient::parse("+49 151 2345 6789").unwrap(),
            Recipient::Phone("+4915123456789".into())
        );
        assert_eq!(
            Recipient::parse("1 (202) 555-0143").unwrap().value(),
            "+12025550143"
        );
        assert!(Recipient::parse("+1 555").is_err());
        assert!(Recipient::parse("+49 000").is_err());
        assert!(Recipient::parse("hello").is_err());
    }

    #[test]
    fn national_numbers_in_their_country() {
        assert_eq!(
            Recipient::parse_national("DE", "0151 23456789").unwrap(),
            Recipient::Phone("+4915123456789".into())
        );
        assert_eq!(
            Recipient::parse_national("de", "+1 202 555 0143")
                .unwrap()
                .value(),
            "+12025550143"
        );
        assert!(matches!(
            Recipient::parse_national("DE", "0151"),
            Err(RecipientError::InvalidNumber(_) | RecipientError::Unparsable { .. })
        ));
        assert!(matches!(
            Recipient::parse_national("XX", "0151 23456789"),
            Err(RecipientError::UnknownRegion(_))
        ));
        let all = countries();
        assert!(all.len() > 200, "{}", all.len());
        assert!(all.contains(&Country {
            region: "DE".into(),
            calling_code: 49
        }));
    }

    #[test]
    fn jids_by_server() {
        assert_eq!(
            Recipient::parse("4915123456789@s.whatsapp.net").unwrap(),
            Recipient::User("4915123456789@s.whatsapp.net".into())
        );
        assert_eq!(
            Recipient::parse("123456789012345@lid").unwrap().kind(),
            "lid"
        );
        assert_eq!(
            Recipient::parse("120363012345678901@g.us").unwrap().kind(),
            "group"
        );
        assert_eq!(
            Recipient::parse("4915123456789-1600000000@g.us")
                .unwrap()
                .kind(),
            "group"
        );
        assert!(Recipient::parse("status@broadcast").is_err());
        assert!(Recipient::parse("49151:3@s.whatsapp.net").is_err());
        assert!(Recipient::parse("abc@s.whatsapp.net").is_err());
        assert_eq!(
            Recipient::Phone("+4915123456789".into()).chat_jid(),
            "4915123456789@s.whatsapp.net"
        );
    }
}

//! JIDs: WhatsApp addresses such as `15551234567@s.whatsapp.net` or `123456789012345:7@lid`.
//!
//! Text form (what logs, the CLI and Baileys use):
//!
//! * `user@server`, or `@server` for a bare server JID (empty user);
//! * `user:device@server` for a device other than 0;
//! * `user.agent:device@server` for a phone-number JID with a raw agent (whatsmeow's form; only
//!   `s.whatsapp.net` JIDs carry one);
//! * `integrator-user:device@interop` for interop JIDs.
//!
//! The text form is lossless for users without `@`, `:` (and, on `s.whatsapp.net`, `.`), which is
//! every user the server sends; the binary form is lossless for every JID the decoder produces.

use std::fmt;
use std::str::FromStr;

/// The server (domain) part of a JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Server {
    /// `s.whatsapp.net`: phone-number users and their devices.
    Pn,
    /// `lid`: the hidden "linked identity" users.
    Lid,
    /// `g.us`: groups.
    Group,
    /// `broadcast`: broadcast lists and `status@broadcast`.
    Broadcast,
    /// `hosted`: phone-number users hosted by a business provider.
    Hosted,
    /// `hosted.lid`: LID users hosted by a business provider.
    HostedLid,
    /// `call`: call ids.
    Call,
    /// `newsletter`: channels.
    Newsletter,
    /// `msgr`: Messenger users (sent as `FB_JID`).
    Messenger,
    /// `interop`: users of other networks (sent as `INTEROP_JID`).
    Interop,
    /// `c.us`: the legacy user server, still used for a few service JIDs.
    LegacyUser,
    /// `bot`: bots.
    Bot,
    /// Any other server string, kept verbatim so that decoding never loses it.
    Other(String),
}

impl Server {
    /// The server as written on the wire and in text.
    pub fn as_str(&self) -> &str {
        match self {
            Server::Pn => "s.whatsapp.net",
            Server::Lid => "lid",
            Server::Group => "g.us",
            Server::Broadcast => "broadcast",
            Server::Hosted => "hosted",
            Server::HostedLid => "hosted.lid",
            Server::Call => "call",
            Server::Newsletter => "newsletter",
            Server::Messenger => "msgr",
            Server::Interop => "interop",
            Server::LegacyUser => "c.us",
            Server::Bot => "bot",
            Server::Other(s) => s,
        }
    }

    /// Maps a server string to its variant; unknown strings become [`Server::Other`].
    pub fn from_wire(s: &str) -> Server {
        match s {
            "s.whatsapp.net" => Server::Pn,
            "lid" => Server::Lid,
            "g.us" => Server::Group,
            "broadcast" => Server::Broadcast,
            "hosted" => Server::Hosted,
            "hosted.lid" => Server::HostedLid,
            "call" => Server::Call,
            "newsletter" => Server::Newsletter,
            "msgr" => Server::Messenger,
            "interop" => Server::Interop,
            "c.us" => Server::LegacyUser,
            "bot" => Server::Bot,
            other => Server::Other(other.to_owned()),
        }
    }

    /// The `AD_JID` domain type byte of the servers that have one.
    pub fn domain_type(&self) -> Option<u8> {
        match self {
            Server::Pn => Some(DOMAIN_WHATSAPP),
            Server::Lid => Some(DOMAIN_LID),
            Server::Hosted => Some(DOMAIN_HOSTED),
            Server::HostedLid => Some(DOMAIN_HOSTED_LID),
            _ => None,
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `AD_JID` domain type of `s.whatsapp.net`.
pub const DOMAIN_WHATSAPP: u8 = 0;
/// `AD_JID` domain type of `lid`.
pub const DOMAIN_LID: u8 = 1;
/// `AD_JID` domain type of `hosted`.
pub const DOMAIN_HOSTED: u8 = 128;
/// `AD_JID` domain type of `hosted.lid`.
pub const DOMAIN_HOSTED_LID: u8 = 129;

/// A WhatsApp address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Jid {
    /// The user part; empty for a bare server JID such as `@s.whatsapp.net`.
    pub user: String,
    /// Raw agent of an `s.whatsapp.net` device JID: an `AD_JID` domain type that is not one of
    /// the four known ones. 0 almost always.
    pub agent: u8,
    /// Device number; 0 is the primary device (the phone).
    pub device: u16,
    /// Integrator of an interop JID; 0 otherwise.
    pub integrator: u16,
    /// The server part.
    pub server: Server,
}

impl Jid {
    /// `user@server` with device 0.
    pub fn new(user: impl Into<String>, server: Server) -> Jid {
        Jid {
            user: user.into(),
            agent: 0,
            device: 0,
            integrator: 0,
            server,
        }
    }

    /// `user:device@server`.
    pub fn with_device(user: impl Into<String>, device: u16, server: Server) -> Jid {
        Jid {
            device,
            ..Jid::new(user, server)
        }
    }

    /// The bare server JID `@server`, e.g. the `to` of an IQ addressed to the server.
    pub fn server_jid(server: Server) -> Jid {
        Jid::new("", server)
    }

    /// The JID of an `AD_JID` with this domain type byte (protocol.md §4.4): 0, 1, 128 and 129
    /// name a server; any other value is a raw agent on `s.whatsapp.net`.
    pub fn from_ad_parts(domain_type: u8, device: u8, user: String) -> Jid {
        let (server, agent) = match domain_type {
            DOMAIN_WHATSAPP => (Server::Pn, 0),
            DOMAIN_LID => (Server::Lid, 0),
            DOMAIN_HOSTED => (Server::Hosted, 0),
            DOMAIN_HOSTED_LID => (Server::HostedLid, 0),
            agent => (Server::Pn, agent),
        };
        Jid {
            agent,
            device: u16::from(device),
            ..Jid::new(user, server)
        }
    }

    /// The same user and server without device or agent: the account rather than one device.
    pub fn to_non_ad(&self) -> Jid {
        Jid {
            integrator: self.integrator,
            ..Jid::new(self.user.clone(), self.server.clone())
        }
    }

    /// True for a JID with an empty user, such as `@s.whatsapp.net`.
    pub fn is_server_jid(&self) -> bool {
        self.user.is_empty()
    }

    /// Whether the encoder sends this JID as `AD_JID`: whatsmeow's rule (device > 0 on
    /// `s.whatsapp.net` or `lid`, always on `hosted` and `hosted.lid`), plus any JID with a raw
    /// agent, because `JID_PAIR` has no room for one.
    pub fn is_ad(&self) -> bool {
        match self.server {
            Server::Pn => self.device > 0 || self.agent != 0,
            Server::Lid => self.device > 0,
            Server::Hosted | Server::HostedLid => true,
            _ => false,
        }
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = &self.server;
        if self.server == Server::Interop {
            write!(
                f,
                "{}-{}:{}@{server}",
                self.integrator, self.user, self.device
            )
        } else if self.agent != 0 {
            write!(f, "{}.{}:{}@{server}", self.user, self.agent, self.device)
        } else if self.device != 0 {
            write!(f, "{}:{}@{server}", self.user, self.device)
        } else {
            write!(f, "{}@{server}", self.user)
        }
    }
}

/// Why a text JID could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JidParseError {
    /// The text has no `@`; a bare server is written `@server`.
    #[error("JID {0:?} has no '@'")]
    MissingAt(String),
    /// Nothing after the `@`.
    #[error("JID {0:?} has an empty server")]
    EmptyServer(String),
    /// The part after `:` is not a device number (0..=65535).
    #[error("JID {0:?} has an invalid device number")]
    InvalidDevice(String),
    /// The part after `.` is not an agent number, or is one of the reserved domain types.
    #[error("JID {0:?} has an invalid agent")]
    InvalidAgent(String),
    /// An interop JID without a valid `integrator-` prefix.
    #[error("interop JID {0:?} has no valid integrator prefix")]
    InvalidIntegrator(String),
}

/// Parses a decimal number the way the protocol writes them: ASCII digits only, no sign.
fn parse_number<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FromStr for Jid {
    type Err = JidParseError;

    fn from_str(text: &str) -> Result<Jid, JidParseError> {
        let (user_part, server) = text
            .split_once('@')
            .ok_or_else(|| JidParseError::MissingAt(text.to_owned()))?;
        if server.is_empty() {
            return Err(JidParseError::EmptyServer(text.to_owned()));
        }
        let server = Server::from_wire(server);
        let mut jid = Jid::new("", server);

        let mut rest = user_part;
        if jid.server == Server::Interop {
            let (integrator, tail) = rest
                .split_once('-')
                .ok_or_else(|| JidParseError::InvalidIntegrator(text.to_owned()))?;
            jid.integrator = parse_number(integrator)
                .ok_or_else(|| JidParseError::InvalidIntegrator(text.to_owned()))?;
            rest = tail;
        }
        if let Some((user, device)) = rest.rsplit_once(':') {
            jid.device = parse_number(device)
                .ok_or_else(|| JidParseError::InvalidDevice(text.to_owned()))?;
            rest = user;
        }
        if jid.server == Server::Pn {
            if let Some((user, agent)) = rest.rsplit_once('.') {
                let agent: u8 = parse_number(agent)
                    .ok_or_else(|| JidParseError::InvalidAgent(text.to_owned()))?;
                // An agent equal to a known domain type would be read back as that domain.
                if matches!(agent, DOMAIN_LID | DOMAIN_HOSTED | DOMAIN_HOSTED_LID) {
                    return Err(JidParseError::InvalidAgent(text.to_owned()));
                }
                jid.agent = agent;
                rest = user;
            }
        }
        jid.user = rest.to_owned();
        Ok(jid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Jid {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_common_forms() {
        for text in [
            "15551234567@s.whatsapp.net",
            "15551234567:3@s.whatsapp.net",
            "15551234567.5:3@s.whatsapp.net",
            "123456789012345:7@lid",
            "120363025246125486@g.us",
            "status@broadcast",
            "123@hosted",
            "123:4@hosted.lid",
            "1234-5678@call",
            "120363@newsletter",
            "100001:2@msgr",
            "7-555:2@interop",
            "@s.whatsapp.net",
            "@g.us",
            "server@c.us",
            "x@some.other.server",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
    }

    #[test]
    fn fields_of_parsed_jids() {
        let j = parse("15551234567.5:3@s.whatsapp.net");
        assert_eq!((j.user.as_str(), j.agent, j.device), ("15551234567", 5, 3));
        assert_eq!(j.server, Server::Pn);
        let j = parse("7-555:2@interop");
        assert_eq!((j.integrator, j.user.as_str(), j.device), (7, "555", 2));
        assert!(parse("@s.whatsapp.net").is_server_jid());
        // A dot outside s.whatsapp.net is part of the user.
        assert_eq!(parse("a.b@g.us").user, "a.b");
        assert_eq!(parse("1:0@lid"), Jid::new("1", Server::Lid));
    }

    #[test]
    fn rejects_malformed_text() {
        assert!(matches!(
            "abc".parse::<Jid>(),
            Err(JidParseError::MissingAt(_))
        ));
        assert!(matches!(
            "abc@".parse::<Jid>(),
            Err(JidParseError::EmptyServer(_))
        ));
        assert!(matches!(
            "1:x@lid".parse::<Jid>(),
            Err(JidParseError::InvalidDevice(_))
        ));
        assert!(matches!(
            "1:70000@lid".parse::<Jid>(),
            Err(JidParseError::InvalidDevice(_))
        ));
        assert!(matches!(
            "1:-1@lid".parse::<Jid>(),
            Err(JidParseError::InvalidDevice(_))
        ));
        assert!(matches!(
            "1.x:2@s.whatsapp.net".parse::<Jid>(),
            Err(JidParseError::InvalidAgent(_))
        ));
        assert!(matches!(
            "1.128:2@s.whatsapp.net".parse::<Jid>(),
            Err(JidParseError::InvalidAgent(_))
        ));
        assert!(matches!(
            "555:2@interop".parse::<Jid>(),
            Err(JidParseError::InvalidIntegrator(_))
        ));
    }

    #[test]
    fn ad_rule_matches_whatsmeow_plus_agent() {
        assert!(!parse("1@s.whatsapp.net").is_ad());
        assert!(parse("1:1@s.whatsapp.net").is_ad());
        assert!(!parse("1@lid").is_ad());
        assert!(parse("1:2@lid").is_ad());
        assert!(parse("1@hosted").is_ad());
        assert!(parse("1@hosted.lid").is_ad());
        assert!(!parse("1:2@g.us").is_ad());
        assert!(parse("1.7:0@s.whatsapp.net").is_ad());
    }

    #[test]
    fn domain_types_map_both_ways() {
        for (d, server) in [
            (0, Server::Pn),
            (1, Server::Lid),
            (128, Server::Hosted),
            (129, Server::HostedLid),
        ] {
            let j = Jid::from_ad_parts(d, 9, "u".into());
            assert_eq!(
                (j.server.clone(), j.agent, j.device),
                (server.clone(), 0, 9)
            );
            assert_eq!(server.domain_type(), Some(d));
        }
        let j = Jid::from_ad_parts(42, 1, "u".into());
        assert_eq!((j.server, j.agent), (Server::Pn, 42));
        assert_eq!(Server::Group.domain_type(), None);
    }
}

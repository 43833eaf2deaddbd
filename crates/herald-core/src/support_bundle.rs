//! The support bundle: one zip a user can hand over when their link keeps dropping.
//!
//! It holds the last 14 days of logs, the reconnect history and online/offline timeline,
//! the settings, a summary of the session (never its keys), versions, the OS and memory
//! figures. Every entry goes through [`Redactor`], loaded first with the secrets this data
//! folder knows (the linked number and LID, the store key if it is in a file or the
//! environment, every message text in the app database), so none of them leaves the computer.
//!
//! It reads the folder the way [`crate::offline`] does: no lock, no write, so it works
//! beside a running app or on a folder nothing runs.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;
use zip::write::SimpleFileOptions;

use crate::db::DbError;
use crate::health::{process_memory, HealthView};
use crate::offline::{self, SESSION_DIR};
use crate::redact::Redactor;
use crate::{history, settings};
use wa_client::UnixMillis;

/// How far back logs and history go.
pub const DAYS: u64 = 14;
const WINDOW: std::time::Duration = std::time::Duration::from_secs(DAYS * 24 * 60 * 60);
/// The most of one log file that goes in (its end: the newest lines).
const MAX_LOG_BYTES: u64 = 4 * 1024 * 1024;
/// Columns of the app database whose values are message content.
const TEXT_COLUMNS: &[&str] = &["text", "body", "message", "caption", "content"];

/// What to put in the bundle besides what is on disk.
#[derive(Debug, Clone)]
pub struct BundleRequest {
    /// The data folder (`herald.db`, `session/`, `logs/`).
    pub data_dir: PathBuf,
    /// The program and its version, e.g. `herald 0.1.0`.
    pub program: String,
    /// When the bundle is made; logs and history reach back [`DAYS`] from here.
    pub now: UnixMillis,
    /// The running service's health, when there is one.
    pub live_health: Option<HealthView>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleSummary {
    pub path: PathBuf,
    pub bytes: u64,
    /// The entries' names, in order.
    pub entries: Vec<String>,
}

/// Why the bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("encoding {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the bundle to `out` (replacing it), through a temporary file so a failure never
/// leaves half a zip under the chosen name.
pub fn write(request: &BundleRequest, out: &Path) -> Result<BundleSummary, BundleError> {
    let app_db = offline::open_app_db(&request.data_dir)?;
    let session = read_session(&request.data_dir);
    let redactor = redactor_for(request, app_db.as_ref(), &session);

    let tmp = out.with_extension("zip.partial");
    let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut zip = Bundle {
        zip: zip::ZipWriter::new(file),
        redactor: &redactor,
        entries: Vec::new(),
    };
    zip.text("README.txt", README)?;
    zip.json("system.json", &system(request), "system")?;
    zip.json("session.json", &session.view, "session")?;
    if let Some(conn) = &app_db {
        let settings = settings::load(conn)?;
        zip.json("settings.json", &settings, "settings")?;
        let since = request.now.saturating_sub(WINDOW);
        let disconnects: Vec<_> = history::page(conn, None, 10_000)?
            .into_iter()
            .filter(|d| d.at_ms >= since)
            .collect();
        let transitions: Vec<_> = history::transitions_since(conn, since)?
            .into_iter()
            .map(|(at_ms, online)| offline::Transition { at_ms, online })
            .collect();
        zip.json(
            "history.json",
            &serde_json::json!({ "disconnects": disconnects, "transitions": transitions }),
            "history",
        )?;
    }
    if let Some(health) = &request.live_health {
        zip.json("health.json", health, "health")?;
    }
    for log in recent_logs(&request.data_dir, request.now) {
        let text = read_tail(&log)?;
        let name = log
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        zip.text(&format!("logs/{name}"), &text)?;
    }
    let entries = zip.entries;
    let mut file = zip.zip.finish()?;
    file.flush().map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, out).map_err(io(out))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(BundleSummary {
        path: out.to_owned(),
        bytes,
        entries,
    })
}

struct Bundle<'a> {
    zip: zip::ZipWriter<std::fs::File>,
    redactor: &'a Redactor,
    entries: Vec<String>,
}

impl Bundle<'_> {
    fn text(&mut self, name: &str, text: &str) -> Result<(), BundleError> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        self.zip.start_file(name, options)?;
        let clean = self.redactor.redact(text);
        self.zip
            .write_all(clean.as_bytes())
            .map_err(|source| BundleError::Io {
                path: PathBuf::from(name),
                source,
            })?;
        self.entries.push(name.to_owned());
        Ok(())
    }

    fn json(
        &mut self,
        name: &str,
        value: &impl Serialize,
        what: &'static str,
    ) -> Result<(), BundleError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|source| BundleError::Json { what, source })?;
        self.text(name, &text)
    }
}

const README: &str = "Herald support bundle\n\
\n\
system.json    versions, operating system, memory\n\
session.json   whether a phone is linked and where the store key is kept (no keys)\n\
settings.json  the settings\n\
history.json   disconnects and online/offline changes of the last 14 days\n\
health.json    the connection's health when the bundle was saved (if Herald was running)\n\
logs/          the last 14 days of logs\n\
\n\
Phone numbers, account ids, keys and message texts are replaced by [number], [redacted],\n\
[token] and [text].\n";

/// The session as the bundle shows it, and the secrets it revealed for the redactor.
struct Session {
    view: serde_json::Value,
    jids: Vec<String>,
}

fn read_session(data_dir: &Path) -> Session {
    let dir = data_dir.join(SESSION_DIR);
    let keys = crate::store_keys::store_keys(Some(crate::store_keys::KEYCHAIN_SERVICE));
    let backend = wa_client::store::key_source::recorded_backend(&dir);
    let running = wa_client::lock::SessionLock::holder(&dir).map(|h| h.program);
    match wa_client::store::peek_with(&dir, &keys) {
        Ok(summary) => {
            let summary = summary.unwrap_or_default();
            let jids = summary.jid.iter().chain(&summary.lid).cloned().collect();
            Session {
                view: serde_json::json!({
                    "linked": summary.jid.is_some(),
                    "hasKeys": summary.has_keys,
                    "platform": summary.platform,
                    "pairedAtMs": summary.paired_at_ms,
                    "prekeys": summary.prekeys,
                    "archivedSessions": summary.archived_sessions,
                    "storeKeyBackend": backend,
                    "runningProgram": running,
                }),
                jids,
            }
        }
        Err(e) => Session {
            view: serde_json::json!({
                "error": e.to_string(),
                "storeKeyBackend": backend,
                "runningProgram": running,
            }),
            jids: Vec::new(),
        },
    }
}

fn redactor_for(
    request: &BundleRequest,
    app_db: Option<&Connection>,
    session: &Session,
) -> Redactor {
    let mut r = Redactor::new();
    for jid in &session.jids {
        r.add_jid(jid);
    }
    if let Some(account) = request
        .live_health
        .as_ref()
        .and_then(|h| h.account.as_ref())
    {
        r.add_jid(&account.jid);
        r.add_secret(&account.phone);
        r.add_secret(account.phone.trim_start_matches('+'));
    }
    let session_dir = request.data_dir.join(SESSION_DIR);
    if let Ok(key) =
        std::fs::read_to_string(session_dir.join(wa_client::store::key_source::FALLBACK_KEY_FILE))
    {
        r.add_secret(&key);
    }
    if let Ok(key) = std::env::var(wa_client::store::key_source::KEY_ENV) {
        r.add_secret(&key);
    }
    if let Some(conn) = app_db {
        for text in message_texts(conn) {
            r.add_secret(&text);
        }
    }
    r
}

/// Every value of a message-text column in any table of the app database: whatever schema
/// the scheduler has, its texts are known to the redactor.
fn message_texts(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_default();
    for table in tables {
        let quoted = table.replace('"', "\"\"");
        let columns: Vec<String> = conn
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                table.replace('\'', "''")
            ))
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        for column in columns
            .iter()
            .filter(|c| TEXT_COLUMNS.contains(&c.as_str()))
        {
            let sql = format!(
                "SELECT \"{}\" FROM \"{quoted}\" WHERE typeof(\"{0}\") = 'text'",
                column.replace('"', "\"\"")
            );
            if let Ok(mut stmt) = conn.prepare(&sql) {
                if let Ok(rows) = stmt.query_map([], |r| r.get::<_, String>(0)) {
                    out.extend(rows.filter_map(Result::ok));
                }
            }
        }
    }
    out
}

/// Log files (`logs/*.log*`) changed in the last 14 days, oldest first.
fn recent_logs(data_dir: &Path, now: UnixMillis) -> Vec<PathBuf> {
    let dir = data_dir.join("logs");
    let since = now.saturating_sub(WINDOW);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut logs: Vec<(UnixMillis, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_string_lossy().contains(".log"))
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            let at = UnixMillis::EPOCH
                .saturating_add(modified.duration_since(std::time::UNIX_EPOCH).ok()?);
            (at >= since).then(|| (at, e.path()))
        })
        .collect();
    logs.sort();
    logs.into_iter().map(|(_, p)| p).collect()
}

/// The newest [`MAX_LOG_BYTES`] of a log, from the first whole line.
fn read_tail(path: &Path) -> Result<String, BundleError> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(MAX_LOG_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(io(path))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data).map_err(io(path))?;
    let text = String::from_utf8_lossy(&data).into_owned();
    Ok(if start > 0 {
        text.split_once('\n')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default()
    } else {
        text
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct System {
    created_at_ms: UnixMillis,
    program: String,
    herald_core: &'static str,
    os: &'static str,
    arch: &'static str,
    os_release: Option<String>,
    kernel: Option<String>,
    memory: Memory,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Memory {
    process_resident_bytes: Option<u64>,
    process_peak_resident_bytes: Option<u64>,
    system_total_bytes: Option<u64>,
    system_available_bytes: Option<u64>,
}

fn system(request: &BundleRequest) -> System {
    System {
        created_at_ms: request.now,
        program: request.program.clone(),
        herald_core: env!("CARGO_PKG_VERSION"),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        os_release: os_release(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned()),
        memory: Memory {
            process_resident_bytes: process_memory(),
            process_peak_resident_bytes: proc_kib("/proc/self/status", "VmHWM:"),
            system_total_bytes: proc_kib("/proc/meminfo", "MemTotal:"),
            system_available_bytes: proc_kib("/proc/meminfo", "MemAvailable:"),
        },
    }
}

/// `PRETTY_NAME` of `/etc/os-release`.
fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let line = text.lines().find(|l| l.starts_with("PRETTY_NAME="))?;
    Some(line["PRETTY_NAME=".len()..].trim_matches('"').to_owned())
}

/// A `Name:  1234 kB` figure of a `/proc` file, in bytes.
fn proc_kib(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

-- The linked device: keys generated once before the first dial, and the account once paired.
-- One row at most; every write to it is one transaction, so a crash leaves the old row or the
-- new one, never a mix.
CREATE TABLE device (
    id                      INTEGER PRIMARY KEY CHECK (id = 1),
    noise_private           BLOB    NOT NULL,
    identity_private        BLOB    NOT NULL,
    registration_id         INTEGER NOT NULL,
    signed_prekey_id        INTEGER NOT NULL,
    signed_prekey_private   BLOB    NOT NULL,
    signed_prekey_signature BLOB    NOT NULL,
    adv_secret              BLOB    NOT NULL,
    created_at_ms           INTEGER NOT NULL,
    -- Set together by pairing (all NULL before).
    jid                     TEXT,
    lid                     TEXT,
    platform                TEXT,
    business_name           TEXT,
    account                 BLOB,
    account_signature_key   BLOB,
    paired_at_ms            INTEGER
);

-- One-time prekeys. Ids are 24-bit, handed out in order and never reused.
CREATE TABLE prekeys (
    id            INTEGER PRIMARY KEY,
    private       BLOB    NOT NULL,
    uploaded      INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- The WhatsApp Web version last fetched from sw.js.
CREATE TABLE version_cache (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    version       TEXT    NOT NULL,
    fetched_at_ms INTEGER NOT NULL
);

-- Sessions that ended (logged out, unlinked): a full copy of the store is kept at `path`.
CREATE TABLE archives (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    archived_at_ms INTEGER NOT NULL,
    reason         TEXT    NOT NULL,
    jid            TEXT,
    path           TEXT    NOT NULL
);

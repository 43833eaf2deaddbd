-- Signal state. Every `record` BLOB is a wa-core record's `serialize()` output (a versioned
-- protobuf); identities are raw 32-byte Curve25519 keys. Addresses are Signal addresses
-- ("user.agent:device" style strings chosen by the caller), one row per remote device.

-- The identity key each remote device presented first (trust on first use). A different key
-- later is refused until the caller trusts it explicitly; `changed_at_ms` records when it did.
CREATE TABLE signal_identities (
    address       TEXT    PRIMARY KEY,
    identity      BLOB    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    changed_at_ms INTEGER
);

-- One pairwise session record (current state and archived ones) per remote device.
CREATE TABLE signal_sessions (
    address       TEXT    PRIMARY KEY,
    record        BLOB    NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- One-time prekeys, replacing the `prekeys` table of migration 1 (its rows are copied over by
-- the program, which knows the record format). A used key keeps its row with
-- `consumed_at_ms` set: its id is never handed out or accepted again.
CREATE TABLE signal_prekeys (
    id             INTEGER PRIMARY KEY,
    record         BLOB    NOT NULL,
    uploaded       INTEGER NOT NULL DEFAULT 0,
    created_at_ms  INTEGER NOT NULL,
    consumed_at_ms INTEGER
);

-- Signed prekeys by id: the current one (also in `device`) and any earlier ones still needed
-- for prekey messages made with them.
CREATE TABLE signal_signed_prekeys (
    id            INTEGER PRIMARY KEY,
    record        BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- Sender-key records per (group, sender device); our own key is the row with our address.
CREATE TABLE sender_keys (
    group_id      TEXT    NOT NULL,
    sender        TEXT    NOT NULL,
    record        BLOB    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, sender)
);

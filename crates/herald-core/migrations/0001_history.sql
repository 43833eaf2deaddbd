-- Every disconnect with its cause and what Herald decided, one row each.
CREATE TABLE disconnects (
    id            INTEGER PRIMARY KEY,
    at_ms         INTEGER NOT NULL,
    cause         TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    code          INTEGER,
    decision      TEXT    NOT NULL,
    advice        TEXT    NOT NULL,
    attempt       INTEGER,
    delay_ms      INTEGER,
    online_for_ms INTEGER
);
CREATE INDEX disconnects_at ON disconnects (at_ms);

-- Connection state transitions, for the online/offline timeline.
CREATE TABLE state_log (
    id     INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL,
    online INTEGER NOT NULL CHECK (online IN (0, 1))
);
CREATE INDEX state_log_at ON state_log (at_ms);

-- What the user scheduled: who, what and when. The timing is an IANA zone name and a local
-- date-time, never a fixed offset, so "09:00 in Europe/Berlin" stays 09:00 across DST.
CREATE TABLE schedules (
    id             INTEGER PRIMARY KEY,
    recipient_kind TEXT    NOT NULL CHECK (recipient_kind IN ('phone', 'user', 'lid', 'group')),
    recipient      TEXT    NOT NULL,
    text           TEXT    NOT NULL CHECK (length(text) > 0),
    zone           TEXT    NOT NULL,
    start_local    TEXT    NOT NULL,
    repeat         TEXT    NOT NULL CHECK (repeat IN ('once', 'days', 'weeks', 'months', 'years')),
    every          INTEGER NOT NULL DEFAULT 1 CHECK (every >= 1),
    -- Bit 0 = Monday … bit 6 = Sunday (weekly schedules).
    weekdays       INTEGER NOT NULL DEFAULT 0,
    last_day       INTEGER NOT NULL DEFAULT 0 CHECK (last_day IN (0, 1)),
    -- A local date, inclusive.
    until_date     TEXT,
    max_count      INTEGER CHECK (max_count >= 1),
    catch_up       TEXT    NOT NULL CHECK (catch_up IN ('default', 'within', 'skip', 'always')),
    catch_up_ms    INTEGER,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'paused', 'cancelled', 'done')),
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);

-- The outbox: one row per occurrence of a schedule, its message id fixed when the row is
-- made, the encoded stanza committed before the bytes leave.
CREATE TABLE sends (
    id           INTEGER PRIMARY KEY,
    schedule_id  INTEGER NOT NULL REFERENCES schedules (id),
    -- The occurrence's instant and its place in the schedule (1 = the first).
    due_ms       INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    -- The local date-time the rule asked for, in the schedule's zone.
    local        TEXT    NOT NULL,
    message_id   TEXT    NOT NULL UNIQUE,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'read',
                                                   'failed', 'in_doubt', 'missed', 'cancelled')),
    -- When the catch-up policy let a pending send go; NULL while not yet judged.
    cleared_ms   INTEGER,
    -- When the runner next tries it (the due instant, or later after a retryable refusal).
    next_try_ms  INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    stanza       BLOB,
    sent_ms      INTEGER,
    delivered_ms INTEGER,
    read_ms      INTEGER,
    error_code   TEXT,
    advice       TEXT,
    updated_ms   INTEGER NOT NULL,
    UNIQUE (schedule_id, due_ms)
);
-- The runner's next-due lookup: only the rows it may still send.
CREATE INDEX sends_next_try ON sends (next_try_ms) WHERE state IN ('pending', 'in_doubt');
-- Crash recovery at start: the rows caught mid-send.
CREATE INDEX sends_sending ON sends (state) WHERE state = 'sending';
CREATE INDEX sends_by_schedule ON sends (schedule_id, due_ms);

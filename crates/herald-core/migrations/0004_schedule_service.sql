-- The scheduler inside the running service.

-- "Skip if they have written to me since": an occurrence is not sent when the recipient's
-- chat has a message from them newer than the schedule's last edit (else its making) and its
-- last send.
ALTER TABLE schedules ADD COLUMN skip_if_replied INTEGER NOT NULL DEFAULT 0
    CHECK (skip_if_replied IN (0, 1));
-- When the user last edited it (updated_ms also moves on pause, resume and done).
ALTER TABLE schedules ADD COLUMN edited_ms INTEGER;

-- The send gate's memory, so a restart neither forgets the per-chat spacing nor resets the
-- hourly cap: one row per send let through, pruned after an hour.
CREATE TABLE gate_log (
    chat  TEXT    NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX gate_log_at ON gate_log (at_ms);

-- When each chat last wrote to us (the newest incoming message per chat), for the skip
-- condition above. One row per chat, not per message: nothing of the messages is kept.
CREATE TABLE inbound (
    chat    TEXT    PRIMARY KEY,
    last_ms INTEGER NOT NULL
) WITHOUT ROWID;

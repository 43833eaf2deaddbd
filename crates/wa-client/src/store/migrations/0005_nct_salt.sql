-- The salt of the cstoken (messaging.md §4.2), from the phone's history sync: one per
-- account, replaced when a newer chunk carries it.
CREATE TABLE nct_salt (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    salt          BLOB    NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

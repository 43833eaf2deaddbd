-- Messaging. A sent message keeps the encoded stanza that was committed together with the
-- Signal state advance that made it, so a resend after a lost ack is the identical bytes
-- (messaging.md §7), and its plaintext, so a retry receipt can be answered for one device.
CREATE TABLE sent_messages (
    id            TEXT    PRIMARY KEY,
    chat          TEXT    NOT NULL,
    plaintext     BLOB    NOT NULL,   -- the Message protobuf, unpadded
    stanza        BLOB    NOT NULL,   -- the binary-encoded <message>
    created_at_ms INTEGER NOT NULL,
    acked_at_ms   INTEGER
);

-- Per device of a sent message: whether it confirmed delivery (a retry from it is then
-- refused) and how many retries it was answered.
CREATE TABLE sent_devices (
    message_id      TEXT    NOT NULL,
    device          TEXT    NOT NULL,
    delivered_at_ms INTEGER,
    retries         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, device)
);

-- Devices that hold our current sender key of a group; emptied when the key is replaced.
CREATE TABLE sender_key_holders (
    group_id TEXT NOT NULL,
    device   TEXT NOT NULL,
    PRIMARY KEY (group_id, device)
);

-- Phone-number user to LID user, learned from usync, groups and history.
CREATE TABLE lid_mappings (
    pn  TEXT PRIMARY KEY,
    lid TEXT NOT NULL
);

-- A contact's privacy token, attached to our 1:1 messages to them while it is valid.
CREATE TABLE privacy_tokens (
    jid   TEXT    PRIMARY KEY,
    token BLOB    NOT NULL,
    t     INTEGER NOT NULL
);

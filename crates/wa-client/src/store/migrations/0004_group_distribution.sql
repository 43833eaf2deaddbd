-- The sender-key distribution message a group message's skmsg was made under, as it was
-- then. A resend that must add a device gives it this one (a later one starts past the
-- stored skmsg's iteration, and chain keys only go forward), so the stored skmsg goes out
-- unchanged. NULL for 1:1 messages.
ALTER TABLE sent_messages ADD COLUMN distribution BLOB;

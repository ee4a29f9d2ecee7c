-- Alertmanager's notifications, recorded before they are answered (as
-- GitHub's deliveries are), until the alerts relay has announced them; the
-- id is the body's hash, so a repeat_interval resend of an unchanged group
-- is no new notification.
CREATE TABLE alert_notices (
    id          TEXT    PRIMARY KEY,
    body        TEXT    NOT NULL,
    received_at BIGINT  NOT NULL, -- unix milliseconds
    done        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_notices_todo ON alert_notices (done, received_at);

-- GitHub as yourself: each person's token (encrypted with a key the
-- database does not hold), and the device-flow logins under way.
CREATE TABLE gh_people (
    user_id    TEXT   PRIMARY KEY, -- the Matrix id
    login      TEXT   NOT NULL,    -- the GitHub login
    token_enc  TEXT   NOT NULL,    -- AES-GCM, base64
    created_at BIGINT NOT NULL
);
CREATE TABLE gh_logins (
    user_id     TEXT    PRIMARY KEY,
    room_id     TEXT    NOT NULL, -- where the outcome is told (a direct chat)
    device_enc  TEXT    NOT NULL, -- the device code, AES-GCM, base64
    interval_s  INTEGER NOT NULL,
    next_poll   BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);

-- The review queue: pull requests from outside the team (by the author's
-- author_association), with when they first got a review or a
-- maintainer's comment, from the GitHub deliveries the relay handles.
CREATE TABLE review_prs (
    repo          TEXT    NOT NULL, -- owner/name, as GitHub spells it
    number        INTEGER NOT NULL,
    title         TEXT    NOT NULL DEFAULT '',
    url           TEXT    NOT NULL DEFAULT '',
    author        TEXT    NOT NULL DEFAULT '',
    association   TEXT    NOT NULL DEFAULT '',
    opened_at     BIGINT  NOT NULL, -- unix milliseconds
    additions     INTEGER NOT NULL DEFAULT 0,
    deletions     INTEGER NOT NULL DEFAULT 0,
    reviewers     TEXT    NOT NULL DEFAULT '', -- requested, comma-separated
    head_sha      TEXT    NOT NULL DEFAULT '',
    ci            TEXT    NOT NULL DEFAULT '', -- the head's last CI conclusion
    draft         INTEGER NOT NULL DEFAULT 0,
    open          INTEGER NOT NULL DEFAULT 1,
    responded_at  BIGINT  NOT NULL DEFAULT 0, -- the first review or maintainer comment; 0: none yet
    PRIMARY KEY (repo, number)
);
CREATE INDEX review_prs_waiting ON review_prs (open, responded_at);
CREATE INDEX review_prs_head ON review_prs (head_sha);

-- What the search index holds, written by the sources (documentation
-- sections, list threads, issues): the index every replica keeps in memory
-- is built from these rows and follows them by seq, which grows with every
-- change. A deleted document stays as a row marked deleted, so a replica
-- that follows learns of the deletion; its text is emptied.
CREATE TABLE search_docs (
    id      TEXT    PRIMARY KEY,
    kind    TEXT    NOT NULL,
    scope   TEXT    NOT NULL DEFAULT '',
    title   TEXT    NOT NULL DEFAULT '',
    heading TEXT    NOT NULL DEFAULT '',
    body    TEXT    NOT NULL DEFAULT '',
    extra   TEXT    NOT NULL DEFAULT '',
    url     TEXT    NOT NULL DEFAULT '',
    dated   BIGINT  NOT NULL DEFAULT 0, -- unix milliseconds; 0: none
    deleted INTEGER NOT NULL DEFAULT 0,
    seq     BIGINT  NOT NULL
);
CREATE INDEX search_docs_seq ON search_docs (seq);
CREATE INDEX search_docs_kind ON search_docs (kind, id);

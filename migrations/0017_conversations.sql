-- Keyword answers: a word (normalised like the command grammar) and its answer in each language, for
-- one channel's subscribers or (channel NULL) for everyone. Hits are counted, never who asked.
CREATE TABLE keyword_answers (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER REFERENCES channels(id),
    keyword    TEXT NOT NULL,
    answer_de  TEXT NOT NULL,
    answer_en  TEXT NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX keyword_answers_word ON keyword_answers(keyword, coalesce(channel_id, 0));

-- One conversation per subscriber and transport: open (the team should answer) or done, maybe taken
-- by an admin. Its messages are the inbox's (theirs) and thread_answers (ours).
CREATE TABLE threads (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    transport     TEXT NOT NULL CHECK (transport IN ('sandbox', 'sms', 'matrix')),
    state         TEXT NOT NULL CHECK (state IN ('open', 'done')),
    assigned_to   INTEGER,
    updated_at    INTEGER NOT NULL,
    UNIQUE (subscriber_id, transport)
);
CREATE INDEX threads_list ON threads(state, updated_at);

-- What herold and the team answered in a conversation, sealed with the subscriber's key: who
-- (admin:<id>, keyword:<id>, herold) and when. Deleted with the inbox's retention and with the person.
CREATE TABLE thread_answers (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    transport     TEXT NOT NULL,
    author        TEXT NOT NULL,
    text_sealed   BLOB NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX thread_answers_subscriber ON thread_answers(subscriber_id, transport, at);
CREATE INDEX thread_answers_at ON thread_answers(at);

-- The messages already in the inbox become open conversations.
INSERT INTO threads (subscriber_id, transport, state, updated_at)
SELECT subscriber_id, transport, 'open', max(received_at) FROM inbox
WHERE transport IN ('sandbox', 'sms', 'matrix') GROUP BY subscriber_id, transport;

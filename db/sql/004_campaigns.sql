-- Campaigns (doc/campaigns.md): one operation on many cards, paced, paused, resumed, cancelled
-- from the CLI. The targets are fixed when the campaign is created (a file, or a filter over the
-- inventory at that moment); each is a durable job that runs as one request at a time.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    operation TEXT NOT NULL,               -- install, lock, unlock, delete, audit, activate
    app_aid TEXT NOT NULL,
    selection TEXT NOT NULL,               -- "file <name>" or "filter <expression>"
    rate REAL NOT NULL DEFAULT 0,          -- targets started per second; 0: no limit
    window INTEGER NOT NULL,               -- targets in flight at once
    retries INTEGER NOT NULL,              -- further tries after a transient failure
    start_at INTEGER NOT NULL DEFAULT 0,   -- Unix ms; 0: when started
    state TEXT NOT NULL,                   -- created, scheduled, running, paused, cancelled, finished
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE campaign_targets (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    seq INTEGER NOT NULL,                  -- 1.. in the order given
    card_id INTEGER NOT NULL REFERENCES cards(id),
    state TEXT NOT NULL,                   -- pending, running, succeeded, failed, skipped, cancelled
    reason TEXT NOT NULL DEFAULT '',
    request_id INTEGER NOT NULL DEFAULT 0, -- the current or last request
    attempts INTEGER NOT NULL DEFAULT 0,
    card_state TEXT NOT NULL DEFAULT '',   -- the application's state as the card reported it
    por_status TEXT NOT NULL DEFAULT '',
    next_at INTEGER NOT NULL DEFAULT 0,    -- a retry waits until then (Unix ms)
    started_at INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, seq),
    UNIQUE (campaign_id, card_id)          -- a card is a target once
) WITHOUT ROWID;

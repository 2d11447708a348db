-- Results owed to application providers (doc/provider-api.md): a row stays until the provider
-- acknowledges the callback, so a restart sends what was not yet acknowledged.
CREATE TABLE provider_callbacks (
    request_id INTEGER PRIMARY KEY REFERENCES requests(id),
    provider TEXT NOT NULL,
    body TEXT NOT NULL,                    -- the JSON sent, signed again at each attempt
    created_at INTEGER NOT NULL
);

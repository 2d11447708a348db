-- ota-gateway state store, schema 1: the card inventory and its keys, the application
-- catalog, what each card holds, the requests and the OTA traffic they cause, and the audit log.
-- Applied inside one transaction by the migration runner, which then sets PRAGMA user_version.
-- Times are Unix milliseconds (UTC). Keys are stored sealed (AES-256-GCM under the master key,
-- see db/src/key_vault.cpp), never in clear.

-- Facts about the database itself. 'master_key_check': a value sealed under the master key at
-- creation, so a daemon started with another key refuses to run instead of failing card by
-- card.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE cards (
    id INTEGER PRIMARY KEY,
    iccid TEXT NOT NULL UNIQUE,            -- ITU-T E.118, 18..20 digits
    imsi TEXT NOT NULL UNIQUE,             -- 3GPP TS 23.003
    msisdn TEXT UNIQUE,                    -- E.164 digits without '+'
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'barred')),
    -- What the vendor delivered and is only read with the card, kept in the inventory file's
    -- notation (doc/card-inventory.md): a row each would triple the rows of an import.
    tars TEXT NOT NULL DEFAULT '',         -- tar:kind:msl[:aid];...
    load_files TEXT NOT NULL DEFAULT '',   -- elf[/module]...;...
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per OTA keyset (ETSI TS 102 225 §5.1.2). `counter` is the last counter value used
-- (or accepted by the card when imported): it is raised and committed before a packet leaves.
CREATE TABLE keysets (
    card_id INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    kvn INTEGER NOT NULL CHECK (kvn BETWEEN 1 AND 15),
    algorithm TEXT NOT NULL CHECK (algorithm IN ('des', '3des2', '3des3', 'aes128', 'aes192', 'aes256')),
    kic BLOB NOT NULL,
    kid BLOB NOT NULL,
    kik BLOB NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0 CHECK (counter BETWEEN 0 AND 1099511627775),
    PRIMARY KEY (card_id, kvn)
) WITHOUT ROWID;

-- The application catalog: what the operator offers and how to reach it on a card.
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    aid TEXT NOT NULL UNIQUE,              -- instance AID, ISO/IEC 7816-5 (hex)
    code TEXT NOT NULL UNIQUE,             -- operator short code used in SMS requests, e.g. '01'
    type TEXT NOT NULL,                    -- telecom, bank, transit, campus-wallet, access, ...
    load_file_aid TEXT,
    module_aid TEXT,
    install_params TEXT,                   -- hex, the C9 application-specific parameters
    tar TEXT NOT NULL,
    msl INTEGER NOT NULL DEFAULT 18,       -- '12': CC and a higher counter
    provider TEXT NOT NULL DEFAULT ''
);

-- The applications on each card as the card reported them (GP 2.3 §5.3 life cycle byte) and
-- the state the gateway derives: absent, installed, active, suspended, terminated, unknown,
-- pending:<op>.
CREATE TABLE card_apps (
    card_id INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    aid TEXT NOT NULL,
    life_cycle INTEGER,                    -- NULL when not known
    state TEXT NOT NULL,
    load_file_aid TEXT,
    module_aid TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (card_id, aid)
) WITHOUT ROWID;
CREATE INDEX card_apps_by_aid_state ON card_apps (aid, state);

-- Application requests (from SMS, the API, providers, campaigns) and their outcome. A request
-- is finished in state done, refused or failed; any other state is resumed after a restart.
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    source TEXT NOT NULL,                  -- sms, api, otactl, provider, campaign
    actor TEXT NOT NULL DEFAULT '',        -- who asked: "api:ops", an MSISDN, a campaign
    card_id INTEGER REFERENCES cards(id),
    msisdn TEXT,
    app_aid TEXT,
    operation TEXT NOT NULL,
    language TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL DEFAULT '',       -- JSON: what the operation needs (references, data)
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX requests_unfinished ON requests (id) WHERE state NOT IN ('done', 'refused', 'failed');
CREATE INDEX requests_in_flight ON requests (card_id, app_aid)
    WHERE state NOT IN ('done', 'refused', 'failed');

-- Secured command packets sent, and the PoRs that came back (ETSI TS 102 225).
CREATE TABLE ota_messages (
    id INTEGER PRIMARY KEY,
    request_id INTEGER REFERENCES requests(id),
    card_id INTEGER NOT NULL REFERENCES cards(id),
    kvn INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    tar TEXT NOT NULL,
    user_data BLOB NOT NULL,               -- the SMS user data as sent (ciphered: no key)
    smpp_message_id TEXT,
    state TEXT NOT NULL,
    sent_at INTEGER,
    UNIQUE (card_id, kvn, counter)          -- a counter is never used twice
);
CREATE INDEX ota_messages_by_request ON ota_messages (request_id);
CREATE TABLE pors (
    id INTEGER PRIMARY KEY,
    ota_message_id INTEGER REFERENCES ota_messages(id),
    card_id INTEGER NOT NULL REFERENCES cards(id),
    status INTEGER NOT NULL,               -- response status code, TS 102 225 §5.1.3.2
    counter INTEGER,
    data BLOB,
    received_at INTEGER NOT NULL
);
CREATE INDEX pors_by_message ON pors (ota_message_id);

-- Append-only: who did what to what, why, when. Rows are never updated or deleted.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

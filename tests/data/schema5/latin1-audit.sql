PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('master_key_check',X'019e409a93f01e703237156a49f00dc37ab5b60b1ec6b2856daa8506be11c44ebecf688b8ea5339437d4b555acef125ab7b172de6f637dfdd1');
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
INSERT INTO cards VALUES(1,'8988299000000000016','001010000000001','999000000001','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796406663152,1796406663152);
INSERT INTO cards VALUES(2,'8988299000000000024','001010000000002','999000000002','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796406663152,1796406663152);
INSERT INTO cards VALUES(3,'8988299000000000032','001010000000003','999000000003','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796406663152,1796406663152);
INSERT INTO cards VALUES(4,'8988299000000000040','001010000000004','999000000004','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796406663152,1796406663152);
CREATE TABLE keysets (
    card_id INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    kvn INTEGER NOT NULL CHECK (kvn BETWEEN 1 AND 15),
    algorithm TEXT NOT NULL CHECK (algorithm IN ('des', '3des2', '3des3', 'aes128', 'aes192', 'aes256')),
    kic BLOB NOT NULL,
    kid BLOB NOT NULL,
    kik BLOB NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0 CHECK (counter BETWEEN 0 AND 1099511627775), card_counter INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (card_id, kvn)
) WITHOUT ROWID;
INSERT INTO keysets VALUES(1,1,'aes128',X'0173d9338fc72975b42beb5fc57e6c5418a63c4bb9284aba6089cfdede27bbf94e04d7a41ba7ed40c84f04cdd0',X'016a6fc9c8b9d6b228658c57c06ad22b97b222139fb1ca3d57e5be8a1abaf51d67e44bb39d518f7fe6fe772d9f',X'01b83fdc91fbe5aaab1d75c1a8e2c3bde4291e2f766c9e0aa52eff8f69d2a15fecc56d17ea3bd4ab0699cc6be3',0,0);
INSERT INTO keysets VALUES(1,2,'3des2',X'01950cbd423bd6f7a04ccf25aa6dcfb106f18d939495646a0de6530e6e85e0581952ceb0bd08b58b08afe86bbe',X'017553c8ef8bd005e4b6a82f53365a1fd3ac14a1adee13cd9f98ea95a2d7bee7a936e26336ffec1f42f8e7fb92',X'0195833558c358046af3e1f78f9343b41926fe086728b4af41d1fd498c8940ea69db280d0a7bf8e97c4926dd20',0,0);
INSERT INTO keysets VALUES(2,1,'aes128',X'0157e11c55d3d668df47059e3e5f04adc2a047aa32094faeda0391908b3d8a632b2e68831ce2bc81b9fbf3ffb5',X'01052ebc4c9abe02ddeaa0abe71328938d61bcfac03a8d741cb51eec666c90d62e0aa67dac7c757ce805b7a329',X'01124f69162583d01c0dcb15c2db81b00ed110ed1ffbd3e527ef1df0e1f4e87b06c6d9bd9f7e75175544388893',0,0);
INSERT INTO keysets VALUES(2,2,'3des2',X'01152f4f973f2abb033557f7671ca2677401bad16b7d6d765cdd94afaa4de0b781fee1d73ae09f1a1e59f09df8',X'0122f67ead934bed1fad2dfb09f2a74951f5c77c717def38b1a7fcaeeff92ecfabfc15c45e2198733cfab5f460',X'010ddfd305cc434eea06b150994b0648cfec19ed0477d6077e0cd9d0f9daf4f56feab18ad1a26cb1aae7b042b9',0,0);
INSERT INTO keysets VALUES(3,1,'aes128',X'018d5bd4c49f4a25f46b40a049ed2ac1b66fbabfffda1b445ec07921ad32f1e84643a875991bc246cd3ae58790',X'01571ea1940cd3eb8fe426a4de685fce1420aac704b6a9f2b4188251918b6fa7e9f481d4296bcde3197d17145b',X'0132a4c0f7df18381947be26f22ac7285ee49177987b74fb6c268520d583c66c7dd304962815bc1fa3656291af',0,0);
INSERT INTO keysets VALUES(3,2,'3des2',X'01653b239c8563d020042da38f1c5fc489b81120bae744340ed0c56b97e48086626bb23840bb5dc6583fe243bb',X'0116d8e79fa6f7c68609d909652dfbaaee58bf033e79064c97cceccba0dc41a42335758f3d15a863035fcadc83',X'0177b41272f5e39afa5b6f88057aca82bcd25c976f156f3001b3da281a14da30dc69b07a60b5ffd99747e1e6af',0,0);
INSERT INTO keysets VALUES(4,1,'aes128',X'0194b35e0b6a67cb81d3de2c99acb30da9d7b1fb78ed01e82b4fc41489ab9f54f09cf15b5e21ff916cb6cddc3b',X'01a559f87e49890a349e47b46909d71e0e32ca0cf52e7f1997632a3d1d9523acda383bff9e7d75a225314cb06f',X'013e593c5bde8c592bef3eaa42b2a2f586bb9da289afde8274517bdc24fc419768e6b221f4da7ad47c4b081d4b',0,0);
INSERT INTO keysets VALUES(4,2,'3des2',X'0143a25105f71bdc66697f895ba39e4fd7ff0894e466c6ac870995544e939b1632d7c02f8218f57e09bb92aa2d',X'016344563fd7c40de854a4c5066346e62752168ecec159328206a25e5def2af26ce18b1866fa79780c35d310e8',X'01823a2a0e763f5ad56e228c683a656fbf965e3d6dd68db067ba7430f35d5e38c318e08955976ffc990c4bdf25',0,0);
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
INSERT INTO applications VALUES(1,'canteen','f04f5441470101010001','01','campus-wallet','f04f5441470101','f04f544147010101',NULL,'c00001',18,'campus');
INSERT INTO applications VALUES(2,'transit','f04f5441470102010001','02','transit','f04f5441470102','f04f544147010201',NULL,'c00002',18,'');
INSERT INTO applications VALUES(3,'bank','f04f5441470103010001','03','bank','f04f5441470103','f04f544147010301','0100','c00003',22,'');
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
INSERT INTO card_apps VALUES(1,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796406663152);
INSERT INTO card_apps VALUES(1,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796406663152);
INSERT INTO card_apps VALUES(2,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796406663152);
INSERT INTO card_apps VALUES(2,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796406663152);
INSERT INTO card_apps VALUES(3,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796406663152);
INSERT INTO card_apps VALUES(3,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796406663152);
INSERT INTO card_apps VALUES(4,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796406663152);
INSERT INTO card_apps VALUES(4,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796406663152);
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
CREATE TABLE pors (
    id INTEGER PRIMARY KEY,
    ota_message_id INTEGER REFERENCES ota_messages(id),
    card_id INTEGER NOT NULL REFERENCES cards(id),
    status INTEGER NOT NULL,               -- response status code, TS 102 225 ยง5.1.3.2
    counter INTEGER,
    data BLOB,
    received_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_log VALUES(1,1796406663152,'api:ops','inventory.import','cartes_้t้.csv','{"mode":"apply","lines":9,"cards":4,"inserted":4,"unchanged":0,"issues":0}');
CREATE TABLE provider_callbacks (
    request_id INTEGER PRIMARY KEY REFERENCES requests(id),
    provider TEXT NOT NULL,
    body TEXT NOT NULL,                    -- the JSON sent, signed again at each attempt
    created_at INTEGER NOT NULL
);
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
CREATE INDEX card_apps_by_aid_state ON card_apps (aid, state);
CREATE INDEX ota_messages_by_request ON ota_messages (request_id);
CREATE INDEX pors_by_message ON pors (ota_message_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE INDEX requests_by_state ON requests (state, id);
CREATE INDEX requests_by_card_app ON requests (card_id, app_aid);
PRAGMA user_version = 5;
COMMIT;

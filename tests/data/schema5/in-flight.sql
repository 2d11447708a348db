PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('master_key_check',X'01efbac737439adf4a419c1433f537e9c574772d6d9ee6542d03d48941c3f8aef11e7297749b7151582ccaf8f7d7d53450db37fc1142e78651');
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
INSERT INTO cards VALUES(1,'8988299000000000016','001010000000001','999000000001','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796401115325,1796401115325);
INSERT INTO cards VALUES(2,'8988299000000000024','001010000000002','999000000002','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796401115325,1796401115325);
INSERT INTO cards VALUES(3,'8988299000000000032','001010000000003','999000000003','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796401115326,1796401115326);
INSERT INTO cards VALUES(4,'8988299000000000040','001010000000004','999000000004','active','000000:isd:12;b00000:rfm:12;b00010:rfm:12;c00001:app:12:f04f5441470101010001;c00002:app:12:f04f5441470102010001','f04f5441470101/f04f544147010101;f04f5441470102/f04f544147010201;f04f5441470103/f04f544147010301',1796401115326,1796401115326);
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
INSERT INTO keysets VALUES(1,1,'aes128',X'01564bd5ed58917513325b8dc23ce03270defe10b923c8925d21f34726cb1a49f8df02f6ccb29f076f49148e60',X'01a21d0165fe22f4e102598d7d5fcb757099e6333dea0b47c7fa0be590d6d11eb3e3eaa220e445c03e4ba7f21b',X'010cff9752272bc3367ee6ea246bd6cd3b2e610c3e8ddde451260f7267b46356e1cf9c1523a684f1db720ca245',1,0);
INSERT INTO keysets VALUES(1,2,'3des2',X'012f38d473613862279a346b456662c7d82058a2c8c2a5280494ac202b96a45cc8820fc5156014b7f501268548',X'01be693018ec79ed3267aa6203e123917985aaf69a3574040443373ef12d3e34d72e3f83e4bb3c323f6e642885',X'015bfcb27bd7b807aab808a2a0bcf965f6ce988cab2177d241c6c7093b38798dec46bfa7c680071335456b05ca',0,0);
INSERT INTO keysets VALUES(2,1,'aes128',X'01b73c1ee2844d6cfb4b093bb5b352d89ef4db1694524652d3758d709c22e368346243087d2ba8a62c57c55ec8',X'01dd560ca278ec4bf4371abc3ca9aad31949611263ca1aa94af057bd4179ab13122450e3e80a742ec524e79591',X'01f474062f326c1ad3ae94f5dc7b4cf75d0779b0864d0e037b45ee13784279cd2c4cd8dc066a8da085176471b6',2,0);
INSERT INTO keysets VALUES(2,2,'3des2',X'01037170cfb3f82f299a04e77f280f8bf24666acdacff6bf9f107f03b85f994e89db1f3386514643d6537684e4',X'016c32c0284f56ae59c3d12ff4c2a98bb615b76371f8395962bec3f0b1fa7a90ba026f30c39fb137d6e0215c31',X'011b091b155055ad48dd705fa58a2c4beff1c57b77d43c19ae8e7f747ef2398c7f31ebd2ca9693933c2e6578cb',0,0);
INSERT INTO keysets VALUES(3,1,'aes128',X'01e2610ebd8268ecf6700b36c78712f48ec484d11b5acbac9a0a32d118cf51e1a38e7003a327abf190c52a267c',X'010dce2acdf92fce53880d11e0f7eb1d952707bc5803d4af58b1d292951cfc56209ff09c0c0163e117cb15e44e',X'013681f5679726fd45dc1c5a6c1cc1245814f190f09700a9ffe3780db0039c4ece7c935a951bb4c65f5b31be49',0,0);
INSERT INTO keysets VALUES(3,2,'3des2',X'0176b761b02adcb8bd460e952c6a5fb34cd4f4901a8a1bfcf8b99957dde88da249ab385f83f09ab4c704354644',X'01400f920fda1123f43a74439a32e680691978d864b4adb7deb02d3602c159b001b24784eb20501076fc6126ef',X'012916046580800e45f859f1d652d9a60b14cebdbb97d525696ed27683177c98813e4ea114659892770086f561',0,0);
INSERT INTO keysets VALUES(4,1,'aes128',X'01d98429ff5bcf72eeead1dd868c096e04093db313e9415c13f1264bea230c27ffe51bbaa9e9a99e2affe12baf',X'012cabb3a795c458faa053ff12972e43f112651bc1df62cb339fc9aa6ea3928bb65b3eb5df5154b63fe381b0eb',X'014f701642bec2d2fd9f05ec5105ee0e9f8ae620a2ccd84e72131d80afdcdac766f5e30eaac4c5fc2866ff04fd',1,0);
INSERT INTO keysets VALUES(4,2,'3des2',X'017d116f1afe39985fd77be2c54cffe4975e1c68e7790d3487111f078984b71d799c19c2f269aef23a9083b847',X'015160385fc984fc38db4dae52da2f81e106187b0f13b9a24e96ba168d2bca5396278e6391da199e35dd906c3f',X'015f44c3882779ecbac1387d523de58be514d1c15dc4f98f9d125fe7f39b135704ff682eafcef876f0a357a10a',0,0);
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
INSERT INTO card_apps VALUES(1,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796401115325);
INSERT INTO card_apps VALUES(1,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796401115325);
INSERT INTO card_apps VALUES(2,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796401115326);
INSERT INTO card_apps VALUES(2,'f04f5441470102010001',NULL,'unknown','f04f5441470102','f04f544147010201',1796401117541);
INSERT INTO card_apps VALUES(3,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796401115326);
INSERT INTO card_apps VALUES(3,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796401115326);
INSERT INTO card_apps VALUES(4,'f04f5441470101010001',3,'installed','f04f5441470101','f04f544147010101',1796401115326);
INSERT INTO card_apps VALUES(4,'f04f5441470102010001',7,'active','f04f5441470102','f04f544147010201',1796401115365);
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
INSERT INTO requests VALUES(1,NULL,'otactl','otactl:ops',4,'999000000004','f04f5441470102010001','query','en','done',NULL,'{"app":"02","attempts":1,"resyncs":0,"audits":0,"iccid":"8988299000000000040","app_name":"transit","from_state":"active","phase":"operation","message_id":1,"sent_at":1796401115363,"por_status":"por_ok","state":"active"}',1796401115363,1796401115365);
INSERT INTO requests VALUES(2,NULL,'otactl','otactl:ops',2,'999000000002','f04f5441470102010001','suspend','en','reconciling',NULL,'{"app":"02","attempts":1,"resyncs":0,"audits":1,"iccid":"8988299000000000024","app_name":"transit","from_state":"active","phase":"audit","message_id":3,"sent_at":1796401117541}',1796401115538,1796401117541);
INSERT INTO requests VALUES(3,NULL,'otactl','otactl:ops',1,'999000000001','f04f5441470102010001','suspend','en','sent',NULL,'{"app":"02","attempts":1,"resyncs":0,"audits":0,"iccid":"8988299000000000016","app_name":"transit","from_state":"active","phase":"operation","message_id":4,"sent_at":1796401118173}',1796401118173,1796401118173);
INSERT INTO requests VALUES(4,NULL,'otactl','otactl:ops',3,'999000000003','f04f5441470101010001','activate','en','provider',NULL,'{"app":"01","attempts":0,"resyncs":0,"audits":0,"iccid":"8988299000000000032","app_name":"canteen","from_state":"installed"}',1796401118202,1796401118202);
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
INSERT INTO ota_messages VALUES(1,1,4,1,1,'000000',X'02700000281516391212000000ee4ad0d707eb59003672405613a703f63d55a47d9c08f78ceb7a77ee8954e767','1','por',1796401115364);
INSERT INTO ota_messages VALUES(2,2,2,1,1,'000000',X'02700000381516391212000000543c25512aca9a8391d18d42433a6a685deef70ad24ec6f44f6fc8994617f84d55c809d3dc990a45921bfb95fcb52b5a','3','submitted',1796401115540);
INSERT INTO ota_messages VALUES(3,2,2,1,2,'000000',X'0270000028151639121200000052dd1f19791b91c346dd3b4dcae74c16c437e187d250f9c9dca94bf81d40d572','4','submitted',1796401117542);
INSERT INTO ota_messages VALUES(4,3,1,1,1,'000000',X'02700000381516391212000000fa644af06c4944c19af1c5656ab68092eaed818aeb5d4d3c3b18622967859ee16303bf2cb415c1aed42891eb8774f25e','5','submitted',1796401118174);
CREATE TABLE pors (
    id INTEGER PRIMARY KEY,
    ota_message_id INTEGER REFERENCES ota_messages(id),
    card_id INTEGER NOT NULL REFERENCES cards(id),
    status INTEGER NOT NULL,               -- response status code, TS 102 225 §5.1.3.2
    counter INTEGER,
    data BLOB,
    received_at INTEGER NOT NULL
);
INSERT INTO pors VALUES(1,1,4,0,1,X'019000e3264f0af04f54414701020100019f700107c50100c407f04f5441470102cc08a000000151000000',1796401115365);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_log VALUES(1,1796401115326,'api:ops','inventory.import','inventory.csv','{"mode":"apply","lines":9,"cards":4,"inserted":4,"unchanged":0,"issues":0}');
INSERT INTO audit_log VALUES(2,1796401115363,'otactl:ops','request.accepted','8988299000000000040','request 1 query transit');
INSERT INTO audit_log VALUES(3,1796401115365,'daemon','app.state','8988299000000000040','transit (f04f5441470102010001) is active (request 1)');
INSERT INTO audit_log VALUES(4,1796401115365,'daemon','request.done','8988299000000000040','request 1 query transit');
INSERT INTO audit_log VALUES(5,1796401115538,'otactl:ops','request.accepted','8988299000000000024','request 2 suspend transit');
INSERT INTO audit_log VALUES(6,1796401117541,'daemon','por.timeout','8988299000000000024','request 2: no PoR within 2 s; reading the card (GET STATUS)');
INSERT INTO audit_log VALUES(7,1796401117541,'daemon','app.state','8988299000000000024','transit (f04f5441470102010001) is unknown (request 2)');
INSERT INTO audit_log VALUES(8,1796401118173,'otactl:ops','request.accepted','8988299000000000016','request 3 suspend transit');
INSERT INTO audit_log VALUES(9,1796401118202,'otactl:ops','request.accepted','8988299000000000032','request 4 activate canteen');
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

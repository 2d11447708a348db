-- SCP81 keysets (GlobalPlatform Card Spec 2.3 Amendment B §3.3.2): per card and KVN ('40' to
-- '4F') a TLS pre-shared key (type '85', key identifier `kid`) and the DEK (key identifier
-- kid + 1) that encrypts sensitive data in the admin session, with the PSK identity the card
-- presents in its ClientKeyExchange (RFC 4279). The Remote Administration Server finds the
-- card, and its key, from the identity alone: it is unique across the inventory. Keys sealed
-- under the master key like the OTA keys (additional data "<iccid>/<kvn>/psk|dek").
CREATE TABLE psk_keysets (
    card_id INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    kvn INTEGER NOT NULL CHECK (kvn BETWEEN 64 AND 79),
    kid INTEGER NOT NULL CHECK (kid BETWEEN 1 AND 126),
    identity BLOB NOT NULL UNIQUE,
    psk BLOB NOT NULL,
    dek_algorithm TEXT NOT NULL CHECK (dek_algorithm IN ('des', '3des2', '3des3', 'aes128', 'aes192', 'aes256')),
    dek BLOB NOT NULL,
    PRIMARY KEY (card_id, kvn)
) WITHOUT ROWID;

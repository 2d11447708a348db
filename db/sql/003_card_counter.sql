-- The counter of the last secured packet a card sent us (a request from its toolkit client,
-- doc/application-requests.md): a packet whose counter is not higher is a replay.
ALTER TABLE keysets ADD COLUMN card_counter INTEGER NOT NULL DEFAULT 0;

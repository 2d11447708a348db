-- A campaign's bearer (doc/bip.md): 'sms-pp', 'bip' or 'auto' for each of its requests; '': the
-- gateway's `ota / bearer`.
ALTER TABLE campaigns ADD COLUMN bearer TEXT NOT NULL DEFAULT '';

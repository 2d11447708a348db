-- Text from outside (an API caller's Idempotency-Key, an inventory file's name, an SMSC's source
-- address) was stored unchecked before schema 7, and a byte that is not UTF-8 made every later
-- reader of the row fail (GET /v1/audit aborted the daemon). Such rows are re-encoded: the bad
-- bytes become U+FFFD (otagw_utf8(), registered by the store). The audit log is append-only, so
-- its repair is recorded in it as such (audit.repaired, naming the entries).
DROP TRIGGER audit_log_no_update;
CREATE TEMP TABLE repaired_audit AS
    SELECT id FROM audit_log
     WHERE actor <> otagw_utf8(actor) OR action <> otagw_utf8(action)
        OR subject <> otagw_utf8(subject) OR detail <> otagw_utf8(detail);
UPDATE audit_log
   SET actor = otagw_utf8(actor), action = otagw_utf8(action), subject = otagw_utf8(subject),
       detail = otagw_utf8(detail)
 WHERE id IN (SELECT id FROM repaired_audit);
INSERT INTO audit_log (at, actor, action, subject, detail)
    SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'daemon', 'audit.repaired',
           'audit_log', 'schema 7: ' || count(*) || ' entries re-encoded as UTF-8 (bytes that were '
           || 'not replaced by U+FFFD): ids ' || group_concat(id, ', ')
      FROM repaired_audit HAVING count(*) > 0;
DROP TABLE repaired_audit;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

UPDATE requests
   SET idempotency_key = otagw_utf8(idempotency_key), actor = otagw_utf8(actor),
       msisdn = otagw_utf8(msisdn), detail = otagw_utf8(detail)
 WHERE idempotency_key <> otagw_utf8(idempotency_key) OR actor <> otagw_utf8(actor)
    OR msisdn <> otagw_utf8(msisdn) OR detail <> otagw_utf8(detail);
UPDATE campaigns
   SET name = otagw_utf8(name), selection = otagw_utf8(selection), actor = otagw_utf8(actor)
 WHERE name <> otagw_utf8(name) OR selection <> otagw_utf8(selection)
    OR actor <> otagw_utf8(actor);
UPDATE provider_callbacks SET body = otagw_utf8(body) WHERE body <> otagw_utf8(body);

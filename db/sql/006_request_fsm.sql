-- The request state machine (gateway/requests/request_fsm.hpp): its typed working data in
-- requests.detail (version 2, written and read only by gateway/requests/request_data.cpp), and
-- the packet each application state was learnt from, so that a PoR older than what is known
-- (a replay, a late copy) changes nothing.
ALTER TABLE card_apps ADD COLUMN kvn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE card_apps ADD COLUMN counter INTEGER NOT NULL DEFAULT 0;

-- Version 1 (a JSON bag read with defaults) to version 2. A request waiting for a PoR keeps the
-- packet it waits for (with its counter); one reconciling knows its application's state as
-- unknown. json_patch drops the keys that are null (absent in version 1).
UPDATE requests SET detail = json_patch('{"v":2}', json_object(
    'iccid', json_extract(detail, '$.iccid'),
    'app', json_extract(detail, '$.app'),
    'app_name', json_extract(detail, '$.app_name'),
    'from', nullif(json_extract(detail, '$.from_state'), ''),
    'campaign', json_extract(detail, '$.campaign'),
    'perso', nullif(json_extract(detail, '$.personalisation'), ''),
    'sends', json_extract(detail, '$.attempts'),
    'resyncs', json_extract(detail, '$.resyncs'),
    'audits', json_extract(detail, '$.audits'),
    'packets', CASE WHEN state IN ('sent', 'reconciling')
                         AND json_extract(detail, '$.message_id') IS NOT NULL
        THEN json_array(json_array(
            json_extract(detail, '$.message_id'),
            (SELECT m.counter FROM ota_messages m
              WHERE m.id = json_extract(requests.detail, '$.message_id')),
            CASE json_extract(detail, '$.phase') WHEN 'audit' THEN 'audit' ELSE 'op' END,
            coalesce(json_extract(detail, '$.sent_at'), 0)))
        END,
    'sent_counter', (SELECT max(m.counter) FROM ota_messages m WHERE m.request_id = requests.id),
    'known', CASE WHEN state = 'reconciling' THEN 'unknown'
                  ELSE nullif(json_extract(detail, '$.from_state'), '') END,
    'state', nullif(json_extract(detail, '$.state'), ''),
    'por_status', nullif(json_extract(detail, '$.por_status'), ''),
    'refusal', nullif(substr(json_extract(detail, '$.card_refusal'), 14), ''),
    'message', nullif(json_extract(detail, '$.message'), '')))
WHERE json_valid(detail) AND json_type(detail) = 'object' AND json_extract(detail, '$.v') IS NULL;

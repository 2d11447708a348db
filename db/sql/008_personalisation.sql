-- Personalisation data from providers (an applet's keys, DGI 0102) was kept in clear in the
-- request's working data, after the request too. From schema 8 it is stored only sealed under
-- the master key and dropped when the request ends (gateway/requests/request_data.cpp); the
-- ended requests' clear copies go now. (An unfinished request's is sealed when the daemon resumes
-- it.)
UPDATE requests SET detail = json_remove(detail, '$.perso')
 WHERE state IN ('done', 'refused', 'failed') AND json_valid(detail)
   AND json_extract(detail, '$.perso') IS NOT NULL;

-- kind: control
-- params: tags
-- The application's tag filter (tags && $1), newest 100 in the last week; the migration does not touch tags.
SELECT * FROM agent_events
WHERE tags && %(tags)s::text[]
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
ORDER BY "timestamp" DESC
LIMIT 100

-- kind: control
-- origin: design document
-- params: tags
-- A tag filter (tags && $1: the application's event service offers it as tags hasSome, though no page of
-- devlog 05063cc sends it), newest 100 in the last week; the migration does not touch tags.
SELECT * FROM agent_events
WHERE tags && %(tags)s::text[]
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
ORDER BY "timestamp" DESC
LIMIT 100

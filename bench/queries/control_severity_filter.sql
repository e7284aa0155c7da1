-- kind: control
-- origin: design document
-- params: severity
-- The newest 100 events of one severity in the last week; the migration should not change it.
SELECT * FROM agent_events
WHERE severity = %(severity)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
ORDER BY "timestamp" DESC
LIMIT 100

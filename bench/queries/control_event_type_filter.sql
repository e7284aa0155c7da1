-- kind: control
-- origin: design document
-- params: event_type
-- The newest 100 events of one event type; the migration should not change it.
SELECT * FROM agent_events
WHERE event_type = %(event_type)s
ORDER BY "timestamp" DESC
LIMIT 100

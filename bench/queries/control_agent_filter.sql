-- kind: control
-- origin: design document
-- params: agent_id
-- The newest 100 events of one agent type; the migration should not change it.
SELECT * FROM agent_events
WHERE agent_id = %(agent_id)s
ORDER BY "timestamp" DESC
LIMIT 100

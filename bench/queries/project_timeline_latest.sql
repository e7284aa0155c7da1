-- kind: promise
-- promise: project_timeline
-- params: project_recent_week
-- after_uses: agent_events_project_id_timestamp_idx
-- The newest 100 events of a project in the last week, as the application lists them.
SELECT * FROM agent_events
WHERE project_id = %(project_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
ORDER BY "timestamp" DESC
LIMIT 100

-- kind: promise
-- origin: design document
-- promise: project_timeline
-- params: project_recent_week
-- after_uses: agent_events_project_id_timestamp_idx
-- The design document's project timeline query: one project's events of the last week.
SELECT * FROM agent_events
WHERE project_id = %(project_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'

-- kind: promise
-- origin: design document
-- promise: project_timeline
-- params: project_active_last_hour
-- after_uses: agent_events_project_id_timestamp_idx
-- project_timeline.sql with the time window as a parameter (the sweep runs 1 hour, 1 day, 1 week, 30 days).
SELECT * FROM agent_events
WHERE project_id = %(project_id)s
  AND "timestamp" > %(now)s::timestamptz - %(window)s::interval

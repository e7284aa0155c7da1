-- kind: promise
-- origin: design document
-- promise: project_timeline
-- params: project_past_week
-- after_uses: agent_events_project_id_timestamp_idx
-- project_timeline.sql over a past week that ends at %(now)s: with `now` 7 days back, only compressed chunks.
SELECT * FROM agent_events
WHERE project_id = %(project_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
  AND "timestamp" < %(now)s::timestamptz

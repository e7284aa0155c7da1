-- kind: promise
-- origin: design document
-- promise: project_timeline
-- params: project_recent_week
-- after_uses: agent_events_project_id_timestamp_idx
-- The design document's project timeline (one project, last week) as a newest-first page of 100. Not the
-- application's query: devlog lists a project's newest 10 events with no time bound on its dashboard
-- (bench/queries/app/app_dashboard_activity_project.sql).
SELECT * FROM agent_events
WHERE project_id = %(project_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
ORDER BY "timestamp" DESC
LIMIT 100

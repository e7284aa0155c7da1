-- kind: promise
-- origin: design document
-- promise: session_timeline
-- params: session_recent_day
-- after_uses: agent_events_session_id_timestamp_idx
-- The design document's session timeline (one session, last day) as a newest-first page of 100. Not the
-- application's query: devlog's session page reads a session's newest 100 events with no time bound
-- (bench/queries/app/app_session_events.sql).
SELECT * FROM agent_events
WHERE session_id = %(session_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
ORDER BY "timestamp" DESC
LIMIT 100

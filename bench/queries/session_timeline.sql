-- kind: promise
-- origin: design document
-- promise: session_timeline
-- params: session_recent_day
-- after_uses: agent_events_session_id_timestamp_idx
-- The design document's session timeline query: one session's events of the last day.
SELECT * FROM agent_events
WHERE session_id = %(session_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'

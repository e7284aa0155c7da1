-- kind: promise
-- origin: design document
-- promise: session_timeline
-- params: session_active_last_hour
-- after_uses: agent_events_session_id_timestamp_idx
-- session_timeline.sql with the time window as a parameter (the sweep runs 1 hour, 1 day, 1 week, 30 days).
SELECT * FROM agent_events
WHERE session_id = %(session_id)s
  AND "timestamp" > %(now)s::timestamptz - %(window)s::interval

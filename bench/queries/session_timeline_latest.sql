-- kind: promise
-- promise: session_timeline
-- params: session_recent_day
-- after_uses: agent_events_session_id_timestamp_idx
-- What the application's event list runs: the newest 100 events of a session in the last day.
SELECT * FROM agent_events
WHERE session_id = %(session_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
ORDER BY "timestamp" DESC
LIMIT 100

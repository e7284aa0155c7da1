-- kind: promise
-- origin: design document
-- promise: session_timeline
-- params: session_past_day
-- after_uses: agent_events_session_id_timestamp_idx
-- session_timeline.sql over a past day that ends at %(now)s: with `now` 7 days back, only compressed chunks.
SELECT * FROM agent_events
WHERE session_id = %(session_id)s
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
  AND "timestamp" < %(now)s::timestamptz

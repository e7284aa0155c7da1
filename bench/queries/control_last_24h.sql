-- kind: control
-- origin: design document
-- params: none
-- Every event of the last 24 hours (a time-range scan on agent_events_timestamp_idx).
SELECT * FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'

-- Sessions with events in the last hour and how many events each has over the whole data window: the same
-- sessions are timed at every query window, so only the window changes along the curve.
SELECT session_id::text AS value, count(*) AS matched
FROM agent_events
WHERE session_id IN (
    SELECT session_id FROM agent_events WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 hour'
)
GROUP BY session_id
ORDER BY matched, value

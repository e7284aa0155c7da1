-- Projects with events in the last hour and how many events each has over the whole data window: the same
-- projects are timed at every query window, so only the window changes along the curve.
SELECT project_id AS value, count(*) AS matched
FROM agent_events
WHERE project_id IN (
    SELECT project_id FROM agent_events WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 hour'
)
GROUP BY project_id
ORDER BY matched, value

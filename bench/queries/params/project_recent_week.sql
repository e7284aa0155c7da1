-- Projects with events in the last week and how many each has.
SELECT project_id AS value, count(*) AS matched
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
GROUP BY project_id
ORDER BY matched, value

-- Projects with events in the week before %(now)s and how many each has there.
SELECT project_id AS value, count(*) AS matched
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
  AND "timestamp" < %(now)s::timestamptz
GROUP BY project_id
ORDER BY matched, value

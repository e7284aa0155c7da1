-- Sessions with events in the day before %(now)s and how many each has there.
SELECT session_id::text AS value, count(*) AS matched
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
  AND "timestamp" < %(now)s::timestamptz
GROUP BY session_id
ORDER BY matched, value

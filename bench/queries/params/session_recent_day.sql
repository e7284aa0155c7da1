-- Sessions with events in the last day and how many each has: the candidates for session timeline params.
SELECT session_id::text AS value, count(*) AS matched
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
GROUP BY session_id
ORDER BY matched, value

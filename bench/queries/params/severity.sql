-- Severities and their event counts in the last week.
SELECT severity AS value, count(*) AS matched
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 week'
GROUP BY 1
ORDER BY matched, value

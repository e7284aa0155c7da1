-- Every filePath in data and how many events carry it (rare to common).
SELECT data ->> 'filePath' AS value, count(*) AS matched
FROM agent_events
WHERE data ? 'filePath'
GROUP BY 1
ORDER BY matched, value

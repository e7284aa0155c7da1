-- filePaths touched in the last hour, with how many events in that hour carry each.
SELECT data ->> 'filePath' AS value, count(*) AS matched
FROM agent_events
WHERE data ? 'filePath'
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 hour'
GROUP BY 1
ORDER BY matched, value

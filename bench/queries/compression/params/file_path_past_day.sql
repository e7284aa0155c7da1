-- filePaths touched in the day before %(now)s, with how many events of that day carry each.
SELECT data ->> 'filePath' AS value, count(*) AS matched
FROM agent_events
WHERE data ? 'filePath'
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
  AND "timestamp" < %(now)s::timestamptz
GROUP BY 1
ORDER BY matched, value

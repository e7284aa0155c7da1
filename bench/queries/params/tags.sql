-- Tags and how many events carry each.
SELECT tag AS value, count(*) AS matched
FROM agent_events, unnest(tags) AS tag
GROUP BY 1
ORDER BY matched, value

-- Every project with its events since %(since)s (its activity, the weight a dashboard gives it) and the time
-- of its newest event (where its stream poll starts).
SELECT project_id AS value,
       count(*) FILTER (WHERE "timestamp" > %(since)s) AS matched,
       max("timestamp") AS newest
FROM agent_events
GROUP BY project_id
ORDER BY value

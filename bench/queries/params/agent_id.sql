-- Agent types and their event counts.
SELECT agent_id AS value, count(*) AS matched FROM agent_events GROUP BY 1 ORDER BY matched, value

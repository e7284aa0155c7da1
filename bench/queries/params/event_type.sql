-- Event types and their event counts.
SELECT event_type AS value, count(*) AS matched FROM agent_events GROUP BY 1 ORDER BY matched, value

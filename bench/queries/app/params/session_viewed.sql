-- Every session with the time of its newest event and its event count: the access model draws session pages
-- mostly from sessions active in the last day, with a tail of sessions older than the compression horizon.
SELECT session_id::text AS value, max("timestamp") AS last_event, count(*) AS matched
FROM agent_events
GROUP BY session_id
ORDER BY value

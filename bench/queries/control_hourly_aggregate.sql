-- kind: control
-- origin: design document
-- params: none
-- Hourly event counts per type over the last day (date_trunc, so both engines run the same SQL).
SELECT date_trunc('hour', "timestamp") AS bucket, event_type, count(*) AS events
FROM agent_events
WHERE "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
GROUP BY 1, 2
ORDER BY 1, 2

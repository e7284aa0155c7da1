-- How many chunks agent_events has and how many of them are compressed.
SELECT count(*), count(*) FILTER (WHERE is_compressed)
FROM timescaledb_information.chunks
WHERE hypertable_name = 'agent_events'

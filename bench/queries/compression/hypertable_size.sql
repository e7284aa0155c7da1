-- TimescaleDB's own accounting of agent_events over all chunks, compressed ones included (bytes).
SELECT table_bytes, index_bytes, toast_bytes, total_bytes FROM hypertable_detailed_size('agent_events')

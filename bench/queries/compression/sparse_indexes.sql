-- What stands in for the per-row indexes inside one compressed chunk: segmentby/orderby and the sparse
-- (min/max, bloom) indexes TimescaleDB derives from the table's B-tree indexes (view of TimescaleDB >= 2.18).
SELECT segmentby, orderby, index
FROM timescaledb_information.chunk_columnstore_settings
WHERE hypertable = 'agent_events'::regclass
  AND chunk IN (
      SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
      FROM timescaledb_information.chunks
      WHERE hypertable_name = 'agent_events' AND is_compressed
  )
LIMIT 1

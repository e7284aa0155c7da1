-- Before/after sizes of the compressed chunks only, as TimescaleDB records them when it compresses (bytes).
SELECT total_chunks, number_compressed_chunks,
       before_compression_table_bytes, before_compression_index_bytes, before_compression_toast_bytes,
       before_compression_total_bytes,
       after_compression_table_bytes, after_compression_index_bytes, after_compression_toast_bytes,
       after_compression_total_bytes
FROM hypertable_compression_stats('agent_events')

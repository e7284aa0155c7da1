-- The source project's policy (compress after 7 days), run once by hand: compress every chunk that ends
-- before %(older_than)s; returns one row per chunk compressed.
SELECT compress_chunk(chunk, if_not_compressed => TRUE)
FROM show_chunks('agent_events', older_than => %(older_than)s::timestamptz) AS chunk

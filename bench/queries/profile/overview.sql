-- Row count, time window, distinct projects and sessions, NULL and reference columns, stored payload sizes.
-- pg_column_size reads the stored (possibly compressed) size from the TOAST pointer without fetching the value.
SELECT count(*) AS rows,
       min("timestamp") AS first,
       max("timestamp") AS last,
       count(DISTINCT project_id) AS projects,
       count(DISTINCT session_id) AS sessions,
       count(*) FILTER (WHERE metrics IS NULL) AS metrics_null,
       count(*) FILTER (WHERE parent_event_id IS NOT NULL) AS with_parent,
       count(*) FILTER (WHERE related_event_ids IS NOT NULL) AS with_related,
       count(*) FILTER (WHERE pg_column_size(data) > %(large_bytes)s) AS large,
       percentile_disc(ARRAY[0.5, 0.9, 0.99, 1.0]) WITHIN GROUP (ORDER BY pg_column_size(data)) AS data_bytes
FROM {source}

-- Rows whose data object has each top-level key, most common first ({label}: the key or a rank).
SELECT {label} AS value, count(*) AS rows
FROM {source}, jsonb_object_keys(data) AS key
WHERE jsonb_typeof(data) = 'object'
GROUP BY key
ORDER BY rows DESC

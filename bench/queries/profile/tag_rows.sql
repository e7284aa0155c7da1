-- Rows carrying each tag, most common first ({label}: the tag, or a rank when tag names may not be written).
SELECT {label} AS value, count(*) AS rows
FROM {source}, unnest(tags) AS tag
GROUP BY tag
ORDER BY rows DESC

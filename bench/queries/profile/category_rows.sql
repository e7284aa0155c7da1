-- Rows per value of one enumeration column, most common first. {label} is the column when its values may be
-- written to the profile, else a rank that names nothing.
SELECT {label} AS value, count(*) AS rows
FROM {source}
GROUP BY {column}
ORDER BY rows DESC

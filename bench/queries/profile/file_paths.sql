-- Per project: events whose data has the file key, distinct values, and the events on the project's most
-- frequent value, its 10 most frequent values and values seen once. The values themselves are never read.
WITH per_value AS (
    SELECT project_id, count(*) AS n
    FROM {source}
    WHERE jsonb_typeof(data) = 'object' AND data ? %(key)s
    GROUP BY project_id, data ->> %(key)s
), ranked AS (
    SELECT project_id, n, row_number() OVER (PARTITION BY project_id ORDER BY n DESC) AS r
    FROM per_value
)
SELECT sum(n) AS events,
       count(*) AS distinct_values,
       sum(n) FILTER (WHERE r = 1) AS top1,
       sum(n) FILTER (WHERE r <= 10) AS top10,
       count(*) FILTER (WHERE n = 1) AS singletons
FROM ranked
GROUP BY project_id

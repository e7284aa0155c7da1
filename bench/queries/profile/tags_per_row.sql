-- How many rows carry 0, 1, 2... tags (NULL counts as none).
SELECT coalesce(cardinality(tags), 0) AS tags, count(*) AS rows
FROM {source}
GROUP BY 1

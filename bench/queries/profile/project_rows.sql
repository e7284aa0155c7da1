-- Rows per project, largest first (project ids stay in the database; only the counts are read).
SELECT count(*) AS rows
FROM {source}
GROUP BY project_id
ORDER BY rows DESC

-- Rows of the table, counted up to a limit: decides whether to sample a table whose statistics are unknown.
SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %(limit)s) AS head

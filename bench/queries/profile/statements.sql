-- The statements of this database that name the profiled table, aggregated over users (pg_stat_statements keeps
-- one entry per user, database and query id): calls, mean execution time and rows. Only SELECT, INSERT, UPDATE,
-- DELETE and WITH statements: pg_stat_statements replaces their constants with $n, while utility statements (COPY,
-- CREATE INDEX ...) keep their literals, so they never leave the server. {view}, {total}: the extension's schema
-- and its total-time column (statements_extension.sql).
SELECT s.queryid,
       min(s.query) AS query,
       sum(s.calls)::bigint AS calls,
       sum(s.{total}) / nullif(sum(s.calls), 0) AS mean_exec_time_ms,
       sum(s.rows)::bigint AS rows
FROM {view} s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.queryid IS NOT NULL
  AND s.calls > 0
  AND s.query ~* %(table_pattern)s
  AND s.query ~* '^\s*((/\*([^*]|\*[^/])*\*/|--[^\n]*\n)\s*)*(select|insert|update|delete|with)\M'
GROUP BY s.queryid
ORDER BY sum(s.calls) DESC

-- Whether pg_stat_statements is installed in this database: its schema and version (no row when it is not), and
-- whether its view has PostgreSQL 13's column names (total_exec_time) or the older ones (total_time).
SELECT n.nspname::text,
       e.extversion,
       EXISTS (
           SELECT 1 FROM pg_attribute a
           WHERE a.attrelid = format('%I.pg_stat_statements', n.nspname)::regclass
             AND a.attname = 'total_exec_time'
       ),
       to_regclass(format('%I.pg_stat_statements_info', n.nspname)) IS NOT NULL
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'

-- Planner row estimates and pages of the table and every partition or chunk under it (catalog only, no scan).
-- reltuples is -1 for a table never vacuumed or analyzed: such tables are reported as unknown.
WITH RECURSIVE tree AS (
    SELECT %(oid)s::oid AS relid
    UNION ALL
    SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
)
SELECT coalesce(sum(c.reltuples) FILTER (WHERE c.reltuples >= 0), 0)::float8 AS estimated_rows,
       coalesce(bool_or(c.reltuples < 0 AND c.relpages > 0), false) AS unknown,
       coalesce(sum(c.relpages), 0)::bigint AS pages
FROM tree t JOIN pg_class c ON c.oid = t.relid
WHERE c.relkind IN ('r', 'm')

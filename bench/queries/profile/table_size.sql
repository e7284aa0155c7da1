-- Estimated rows of the table and every partition or chunk under it, from the catalog only (no scan): like the
-- planner, each relation's rows per page (pg_class.reltuples / relpages at its last VACUUM or ANALYZE) times
-- its pages now. A relation with pages but no such statistics (never vacuumed or analyzed) is unknown.
WITH RECURSIVE tree AS (
    SELECT %(oid)s::oid AS relid
    UNION ALL
    SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
), leaves AS (
    SELECT c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::int AS pages
    FROM tree t JOIN pg_class c ON c.oid = t.relid
    WHERE c.relkind IN ('r', 'm')
)
SELECT coalesce(sum(reltuples / relpages * pages) FILTER (WHERE relpages > 0 AND reltuples >= 0), 0)::float8,
       coalesce(bool_or(pages > 0 AND (relpages = 0 OR reltuples < 0)), false),
       coalesce(sum(pages), 0)::bigint
FROM leaves

-- The table to profile: its oid, kind and whether the current role may read it (NULLs when it does not exist).
SELECT c.oid::bigint, c.relkind::text, has_table_privilege(c.oid, 'SELECT'), current_user::text
FROM pg_class c
WHERE c.oid = to_regclass(%(table)s)

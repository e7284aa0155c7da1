-- The table to profile (no row when it does not exist): its oid, kind, quoted name, whether the current role
-- may read it, and the settings the profile records or names in its messages.
SELECT c.oid::bigint,
       c.relkind::text,
       c.oid::regclass::text,
       has_table_privilege(c.oid, 'SELECT'),
       current_user::text,
       current_setting('server_version'),
       current_setting('transaction_read_only')
FROM pg_class c
WHERE c.oid = to_regclass(%(table)s)

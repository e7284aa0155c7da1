-- What the probe's writer and reader are waiting for right now: the lock they queue for and who holds it.
SELECT a.pid,
       a.wait_event_type,
       l.mode,
       l.relation::regclass::text AS relation,
       (SELECT string_agg(left(b.query, 160), ' | ')
        FROM pg_stat_activity b
        WHERE b.pid = ANY (pg_blocking_pids(a.pid))) AS blocked_by
FROM pg_stat_activity a
LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
WHERE a.pid = ANY (%(pids)s)

-- The partitions of agent_events (native engine), oldest first.
SELECT c.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = '"public"."agent_events"'::regclass
ORDER BY c.relname

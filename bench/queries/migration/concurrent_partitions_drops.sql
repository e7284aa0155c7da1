-- Step 3: drop the replaced indexes. DROP INDEX CONCURRENTLY is refused on a partitioned index, so this is a
-- plain DROP: a brief ACCESS EXCLUSIVE lock on agent_events and every partition.
DROP INDEX IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_idx";

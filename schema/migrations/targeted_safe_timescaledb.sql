-- promises: none
-- transaction: none
-- targeted.sql's index set (session and project composites on (..., timestamp DESC), GIN on tags in place of the
-- B-tree on tags, no GIN on data: see targeted.sql for why each), made non-blocking for a TimescaleDB hypertable
-- the way phase2_safe_timescaledb.sql does it: WITH (timescaledb.transaction_per_chunk) builds each index chunk by
-- chunk, one transaction per chunk, so only the chunk being indexed blocks writes. It must run outside a
-- transaction block: run the file with `psql -f` (autocommit) or through the harness, which runs each statement in
-- its own transaction. The indexes it ends with are targeted.sql's, so its read gain, storage and write cost are
-- targeted's; what differs is how it gets there. New indexes first, the replaced ones dropped last (a brief ACCESS
-- EXCLUSIVE lock, no scan), so reads always have an index. IF NOT EXISTS / IF EXISTS everywhere: the file applies
-- twice in a row. On native partitions the WITH option is refused; use targeted_safe_partitions.sql there.
CREATE INDEX IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON "public"."agent_events"("session_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON "public"."agent_events"("project_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_tags_gin_idx" ON "public"."agent_events" USING GIN ("tags") WITH (timescaledb.transaction_per_chunk);
DROP INDEX IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_tags_idx";

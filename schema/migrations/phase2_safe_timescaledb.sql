-- promises: phase2
-- transaction: none
-- Phase 2's index set (session and project composites on (..., timestamp DESC), GIN on data), made idempotent
-- and non-blocking for a TimescaleDB hypertable. TimescaleDB refuses CREATE INDEX CONCURRENTLY on a hypertable;
-- its own form, WITH (timescaledb.transaction_per_chunk), builds the index chunk by chunk, one transaction per
-- chunk, so only the chunk being indexed blocks writes. It must run outside a transaction block: run the file with
-- `psql -f` (autocommit) or through the harness, which runs each statement in its own transaction.
-- New indexes first, the replaced single-column ones dropped last (a brief ACCESS EXCLUSIVE lock, no scan), so
-- reads always have an index. IF NOT EXISTS / IF EXISTS everywhere: the file applies twice in a row.
-- On native partitions the WITH option is refused; use phase2_safe_partitions.sql there.
CREATE INDEX IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON "public"."agent_events"("session_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON "public"."agent_events"("project_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_data_idx" ON "public"."agent_events" USING GIN ("data") WITH (timescaledb.transaction_per_chunk);
DROP INDEX IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_idx";

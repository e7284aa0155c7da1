-- The migration with CONCURRENTLY added, as a reader of "concurrent-safe" would write it: new indexes first,
-- then the replaced ones dropped, each statement in its own transaction. PostgreSQL 15 refuses both
-- CONCURRENTLY forms on a partitioned table, and TimescaleDB refuses them on a hypertable; the suite records
-- what the server answers.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON "public"."agent_events"("session_id", "timestamp" DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON "public"."agent_events"("project_id", "timestamp" DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS "agent_events_data_idx" ON "public"."agent_events" USING GIN ("data");
DROP INDEX CONCURRENTLY IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX CONCURRENTLY IF EXISTS "public"."agent_events_project_id_idx";

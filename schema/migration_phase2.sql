-- Phase 2 migration (20251101000000_add_timescaledb_composite_indexes), statement for statement as the
-- design document describes it. This file is the subject under test: the harness builds the `after`
-- instance by applying it to the `before` schema and never edits it to make a promise hold.

-- Drop existing single-column indexes that will be replaced by composite indexes
DROP INDEX IF EXISTS "agent_events_session_id_idx";
DROP INDEX IF EXISTS "agent_events_project_id_idx";

-- Composite index for session timeline queries
CREATE INDEX "agent_events_session_id_timestamp_idx" ON "agent_events"("session_id", "timestamp" DESC);

-- Composite index for project timeline queries
CREATE INDEX "agent_events_project_id_timestamp_idx" ON "agent_events"("project_id", "timestamp" DESC);

-- GIN index for JSONB containment on data (default jsonb_ops operator class)
CREATE INDEX "agent_events_data_idx" ON "agent_events" USING GIN ("data");

-- A planted regression: Phase 2's composite indexes, but without its GIN index on "data", so JSONB
-- containment (`data @> ...`) keeps its sequential scan. The JSONB promise must fail; the timelines match Phase 2.

-- Drop existing single-column indexes that will be replaced by composite indexes
DROP INDEX IF EXISTS "agent_events_session_id_idx";
DROP INDEX IF EXISTS "agent_events_project_id_idx";

-- Composite index for session timeline queries
CREATE INDEX "agent_events_session_id_timestamp_idx" ON "agent_events"("session_id", "timestamp" DESC);

-- Composite index for project timeline queries
CREATE INDEX "agent_events_project_id_timestamp_idx" ON "agent_events"("project_id", "timestamp" DESC);

-- Step 1 of the non-blocking migration on a partitioned table (PostgreSQL 15): each new index is created on
-- the parent only (ON ONLY: no partition is touched, the index stays invalid until every partition has one).
CREATE INDEX IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON ONLY "public"."agent_events"("session_id", "timestamp" DESC);
CREATE INDEX IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON ONLY "public"."agent_events"("project_id", "timestamp" DESC);
CREATE INDEX IF NOT EXISTS "agent_events_data_idx" ON ONLY "public"."agent_events" USING GIN ("data");

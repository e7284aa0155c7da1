-- Puts a scratch copy back to the pre-Phase-2 index set between two measured ways of migrating it
-- (indexes are built while nothing is probing the copy, so no figure includes these builds).
DROP INDEX IF EXISTS "public"."agent_events_session_id_timestamp_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_timestamp_idx";
DROP INDEX IF EXISTS "public"."agent_events_data_idx";
CREATE INDEX IF NOT EXISTS "agent_events_session_id_idx" ON "public"."agent_events"("session_id");
CREATE INDEX IF NOT EXISTS "agent_events_project_id_idx" ON "public"."agent_events"("project_id");

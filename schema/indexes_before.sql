-- The 7 indexes of agent_events before Phase 2, as the source schema creates them.
CREATE INDEX "agent_events_timestamp_idx" ON "public"."agent_events"("timestamp" DESC);
CREATE INDEX "agent_events_session_id_idx" ON "public"."agent_events"("session_id");
CREATE INDEX "agent_events_project_id_idx" ON "public"."agent_events"("project_id");
CREATE INDEX "agent_events_agent_id_idx" ON "public"."agent_events"("agent_id");
CREATE INDEX "agent_events_event_type_idx" ON "public"."agent_events"("event_type");
-- A plain B-tree on the array, as the source schema has it (it does not serve tags && / @> filters).
CREATE INDEX "agent_events_tags_idx" ON "public"."agent_events"("tags");
CREATE INDEX "agent_events_severity_idx" ON "public"."agent_events"("severity");

-- promises: none
-- A planted regression: five indexes no query of the application needs. Reads stay as fast as before; every
-- insert and COPY maintains five more index entries per row, so write cost and storage grow. A gate must fail
-- it on writes and storage. Index DDL on the parent reaches every partition or chunk.
CREATE INDEX "agent_events_agent_version_idx" ON "agent_events"("agent_version");
CREATE INDEX "agent_events_parent_event_id_idx" ON "agent_events"("parent_event_id");
CREATE INDEX "agent_events_agent_version_agent_id_idx" ON "agent_events"("agent_version", "agent_id");
CREATE INDEX "agent_events_context_idx" ON "agent_events" USING GIN ("context");
CREATE INDEX "agent_events_metrics_idx" ON "agent_events" USING GIN ("metrics");

-- The migration as a TimescaleDB operator would run it: each new index built chunk by chunk, one transaction
-- per chunk (only the chunk being indexed blocks writes), then the replaced indexes dropped. Must run
-- outside a transaction block.
CREATE INDEX IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON "public"."agent_events"("session_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON "public"."agent_events"("project_id", "timestamp" DESC) WITH (timescaledb.transaction_per_chunk);
CREATE INDEX IF NOT EXISTS "agent_events_data_idx" ON "public"."agent_events" USING GIN ("data") WITH (timescaledb.transaction_per_chunk);
DROP INDEX IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_idx";

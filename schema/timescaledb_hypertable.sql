-- TimescaleDB set-up of the source project (Phase 1): a hypertable with 1-day chunks.
-- Deviation 1: every unique index of a hypertable must contain the partitioning column, so the
--   primary key (id) becomes (id, timestamp).
-- Deviation 2: create_hypertable() would create its own "agent_events_timestamp_idx", which collides with
--   the schema's index of the same name; default indexes are turned off and the schema creates its own.
ALTER TABLE "public"."agent_events" DROP CONSTRAINT "agent_events_pkey";
ALTER TABLE "public"."agent_events" ADD CONSTRAINT "agent_events_pkey" PRIMARY KEY ("id", "timestamp");
SELECT create_hypertable('"public"."agent_events"', 'timestamp',
                         chunk_time_interval => INTERVAL '1 day',
                         create_default_indexes => FALSE);

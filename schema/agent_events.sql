-- The agent_events table as the source project defines it before Phase 2 (plain table, primary key on id).
-- Engine set-up files adapt it where an engine requires (see timescaledb_hypertable.sql,
-- agent_events_partitioned.sql); every adaptation is recorded as a deviation in the results.
-- Harness files name the schema (bench/database.py TARGET_SCHEMA), so no search_path can redirect them.
CREATE TABLE "public"."agent_events" (
    "id"                UUID        NOT NULL,
    "timestamp"         TIMESTAMPTZ NOT NULL,
    "event_type"        TEXT        NOT NULL,
    "agent_id"          TEXT        NOT NULL,
    "agent_version"     TEXT        NOT NULL,
    "session_id"        UUID        NOT NULL,
    "project_id"        INTEGER     NOT NULL,
    "context"           JSONB       NOT NULL DEFAULT '{}',
    "data"              JSONB       NOT NULL DEFAULT '{}',
    "metrics"           JSONB,
    "parent_event_id"   UUID,
    "related_event_ids" TEXT[],
    "tags"              TEXT[],
    "severity"          TEXT,
    CONSTRAINT "agent_events_pkey" PRIMARY KEY ("id")
);

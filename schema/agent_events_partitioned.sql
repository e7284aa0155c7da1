-- Native PostgreSQL fallback when TimescaleDB is not installed: the same columns, range-partitioned by day.
-- Deviation: a partitioned table's unique constraints must include the partition key, so the primary key
-- is (id, timestamp) instead of (id). Daily partitions are created from partition_day.sql.
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
    CONSTRAINT "agent_events_pkey" PRIMARY KEY ("id", "timestamp")
) PARTITION BY RANGE ("timestamp");

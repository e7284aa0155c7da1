-- Step 2, once per partition: build its index CONCURRENTLY (writes continue), then attach it to the parent's.
-- {partition} and the {*_index} names are filled by bench/suites/migration.py with psycopg.sql identifiers.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {session_index} ON {partition}("session_id", "timestamp" DESC);
ALTER INDEX "public"."agent_events_session_id_timestamp_idx" ATTACH PARTITION {session_index};
CREATE INDEX CONCURRENTLY IF NOT EXISTS {project_index} ON {partition}("project_id", "timestamp" DESC);
ALTER INDEX "public"."agent_events_project_id_timestamp_idx" ATTACH PARTITION {project_index};
CREATE INDEX CONCURRENTLY IF NOT EXISTS {data_index} ON {partition} USING GIN ("data");
ALTER INDEX "public"."agent_events_data_idx" ATTACH PARTITION {data_index};

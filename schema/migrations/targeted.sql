-- promises: none
-- Only what the application's measured workload uses (bench/queries/app/, weights in bench/workloads/devlog.toml;
-- README "Latest results"), as a delta on the 7 indexes before Phase 2. No GIN on data, so the design document's
-- JSONB promise does not apply (hence "promises: none").
--  * project composite: app_dashboard_activity_project and app_dashboard_today_project are "project_id = $1
--    ORDER BY timestamp DESC LIMIT $n"; (project_id, timestamp DESC) returns the newest rows in order and stops
--    after LIMIT, where project_id alone sorts every event of the project (the "latest N" wins of the README).
--  * session composite: app_session_events is "session_id = $1 ORDER BY timestamp DESC LIMIT 100"; same reason,
--    it matters for long sessions (3.5x for the largest one on partitions).
--  * the single-column session_id/project_id indexes are then redundant (each composite's leading column serves
--    equality alone) and dropped: fewer indexes to maintain on every insert.
--  * GIN on tags replaces the B-tree on tags: the service's tag filter is `tags && $1` (control_tags_overlap),
--    which a B-tree on an array cannot serve and GIN (array_ops) can; no query sorts or compares whole arrays.
--  * no GIN on data: Prisma's JSON filter compiles to `data #> path = value` (app_json_filter*), which jsonb_ops
--    GIN cannot serve; only whole-table `data @> ...` (the design document's own query) uses it, and no
--    application query sends that. It is Phase 2's largest new index (78 MiB at 2M rows).
-- Plain CREATE INDEX in one transaction like the Phase 2 file (blocking; see phase2_safe_* for the non-blocking
-- form), with IF NOT EXISTS / IF EXISTS so it applies twice.
DROP INDEX IF EXISTS "public"."agent_events_session_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_project_id_idx";
DROP INDEX IF EXISTS "public"."agent_events_tags_idx";
CREATE INDEX IF NOT EXISTS "agent_events_session_id_timestamp_idx" ON "public"."agent_events"("session_id", "timestamp" DESC);
CREATE INDEX IF NOT EXISTS "agent_events_project_id_timestamp_idx" ON "public"."agent_events"("project_id", "timestamp" DESC);
CREATE INDEX IF NOT EXISTS "agent_events_tags_gin_idx" ON "public"."agent_events" USING GIN ("tags");

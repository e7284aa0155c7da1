-- Compression settings of the source project (Phase 1): segment by project, agent and event type, newest
-- first. The policy (compress after 7 days) is not scheduled during measurement, so a background job never
-- changes the data under a timed query; the compression suite compresses chunks explicitly.
ALTER TABLE "public"."agent_events" SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'project_id, agent_id, event_type',
    timescaledb.compress_orderby = '"timestamp" DESC'
);

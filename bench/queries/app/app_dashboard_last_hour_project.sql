-- kind: app
-- origin: application
-- source: GET packages/web/app/api/dashboard/stats/route.ts@05063cc:50-58 (recentFilter has no projectId) ->
--    getEvents, packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:213-247
-- does: the events-per-minute figure for one project, as the page presumably intends
-- frequency: none at 05063cc: a what-if case (the route never adds the project to this read)
-- bugs: see app_dashboard_last_hour
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_project_id_timestamp_idx
-- params: last_hour_project
-- binds: limit=100, offset=0
-- What the last-hour read would be if the stats route passed the dashboard's project to it (it does not at
-- 05063cc).
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE ("public"."agent_events"."project_id" = %(project_id)s AND "public"."agent_events"."timestamp" >= %(since)s)
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

-- kind: app
-- origin: application
-- source: component packages/web/components/agent-observability/dashboard/dashboard-stats-wrapper.tsx@05063cc:20-33
--    -> GET packages/web/app/api/dashboard/stats/route.ts@05063cc:32-47 -> getEvents,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:213-247
-- does: the dashboard's events-today figure for one project
-- frequency: once per dashboard load with ?projectId=
-- bugs: only .length is used, so the figure is capped at 100, and full rows are read just to be counted
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_project_id_timestamp_idx
-- params: dashboard_today_project
-- binds: limit=100, offset=0
-- Prisma: agentEvent.findMany({ where: { projectId, timestamp: { gte: today, lte: tomorrow } }, orderBy: {
-- timestamp: 'desc' }, take: 100, skip: 0 }); the service adds projectId before timestamp.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE ("public"."agent_events"."project_id" = %(project_id)s AND "public"."agent_events"."timestamp" >= %(today_start)s AND "public"."agent_events"."timestamp" <= %(today_end)s)
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

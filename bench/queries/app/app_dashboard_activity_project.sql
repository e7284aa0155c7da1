-- kind: app
-- origin: application
-- source: component packages/web/components/agent-observability/dashboard/recent-activity.tsx@05063cc:23-35
--    (limit=10, projectId from the dashboard URL) -> GET
--    packages/web/app/api/dashboard/activity/route.ts@05063cc:10-29 -> getEvents,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:206-257
-- does: the dashboard's recent activity list for one project: its newest 10 events, with no time bound
-- frequency: once per dashboard load with ?projectId=
-- bugs: none in this read
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_project_id_timestamp_idx
-- params: project_by_activity
-- binds: limit=10, offset=0
-- Prisma: agentEvent.findMany({ where: { projectId }, orderBy: { timestamp: 'desc' }, take: 10, skip: 0 }).
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."project_id" = %(project_id)s
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

-- kind: app
-- origin: application
-- source: component packages/web/components/agent-observability/dashboard/recent-activity.tsx@05063cc:23-35
--    (limit=10) -> GET packages/web/app/api/dashboard/activity/route.ts@05063cc:10-29 -> getEvents,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:206-257
-- does: the dashboard's recent activity list: the newest 10 events of all projects
-- frequency: once per dashboard load without ?projectId= (the default dashboard)
-- bugs: none in this read; the route's default is 20 rows and the service's 100, the page asks for 10
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: none
-- params: none
-- binds: limit=10, offset=0
-- Prisma: agentEvent.findMany({ where: {}, orderBy: { timestamp: 'desc' }, take: 10, skip: 0 }); an empty where
-- renders as WHERE 1=1.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE 1=1
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

-- kind: app
-- origin: application
-- source: GET packages/web/app/api/dashboard/stats/route.ts@05063cc:50-58 -> getEvents,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:206-257
-- does: the dashboard's events-per-minute figure: up to 100 events of the last hour, counted and divided by 60
-- frequency: once per dashboard load, with or without ?projectId= (the route never passes the project to this read)
-- bugs: only .length is used, so eventsPerMinute is capped at 100/60 = 1.67; the project filter of the page is
--    ignored here
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: none
-- params: last_hour
-- binds: limit=100, offset=0
-- Prisma: agentEvent.findMany({ where: { timestamp: { gte: oneHourAgo } }, orderBy: { timestamp: 'desc' }, take:
-- 100, skip: 0 }); no upper bound.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."timestamp" >= %(since)s
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

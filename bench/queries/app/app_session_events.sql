-- kind: app
-- origin: application
-- source: page packages/web/app/sessions/[id]/page.tsx@05063cc:44-49,67 -> GET
--    packages/web/app/api/sessions/[id]/events/route.ts@05063cc:10-40 -> AgentEventService.getEventsBySession ->
--    getEvents, packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:206-257,279-281
-- does: the session page's event timeline: a session's newest 100 events, with no time bound
-- frequency: once per session page view (a server component fetching with cache: 'no-store')
-- bugs: the route parses limit/offset/eventType/severity but applies them in memory after this read, so the SQL is
--    always LIMIT 100 OFFSET 0: offsets of 100 or more return an empty page and filters only see the newest 100
--    events
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_session_id_timestamp_idx
-- params: session_viewed
-- binds: limit=100, offset=0
-- Prisma: agentEvent.findMany({ where: { sessionId }, orderBy: { timestamp: 'desc' }, take: 100, skip: 0 }).
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."session_id" = %(session_id)s
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

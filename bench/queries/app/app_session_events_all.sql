-- kind: app
-- origin: application
-- source: GET packages/web/app/api/chat-sessions/[sessionId]/events/route.ts@05063cc:19-40
-- does: all events of one session, oldest first, with their session and project rows
-- frequency: none at 05063cc: no shipped page calls the route, only
--    packages/web/tests/lib/api/hierarchy-api.test.ts@05063cc:456 (a what-if case)
-- bugs: despite the route's name, sessionId filters agent_events.session_id, an agent_sessions id at 05063cc
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_session_id_timestamp_idx
-- params: session_viewed
-- binds: offset=0
-- Prisma: agentEvent.findMany({ where: { sessionId }, orderBy: { timestamp: 'asc' }, include: { session: true,
-- project: true } }): every event of a session, oldest first. The include adds two statements on agent_sessions and
-- projects, which the harness does not have; they are not measured.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."session_id" = %(session_id)s
ORDER BY "public"."agent_events"."timestamp" ASC
OFFSET %(offset)s

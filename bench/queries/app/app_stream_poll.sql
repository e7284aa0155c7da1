-- kind: app
-- origin: application
-- source: client packages/web/lib/hooks/use-realtime-events.ts@05063cc:113-121,257-259 (no query string) -> GET
--    packages/web/app/api/events/stream/route.ts@05063cc:22-115
-- does: the live dashboard's server-sent events: polls for events newer than the last one sent
-- frequency: every 5 s per open dashboard tab, from connect until it closes: 720 per hour
-- bugs: the >= bound re-sends the newest event on every poll; events ingested with older timestamps are never
--    streamed; more than 50 new events in 5 s drop the older ones; the client listens for event names the stream
--    never sends
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: none
-- params: stream_poll
-- binds: limit=50, offset=0
-- Prisma: agentEvent.findMany({ where: { timestamp: { gte: lastTimestamp } }, orderBy: { timestamp: 'desc' }, take:
-- 50, include: { session: true, project: true } }). lastTimestamp is the newest event already sent, so in steady
-- state every poll re-reads at least that event. The include adds two statements on agent_sessions and projects
-- whenever a poll returns rows; the harness has no such tables and does not measure them.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."timestamp" >= %(since)s
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

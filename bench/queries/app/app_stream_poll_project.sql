-- kind: app
-- origin: application
-- source: GET packages/web/app/api/events/stream/route.ts@05063cc:72-94
-- does: the server-sent events poll for one project
-- frequency: none at 05063cc: a what-if case (the shipped hook connects without projectId; the hook that passes it,
--    packages/web/hooks/use-realtime-events.ts@05063cc:93-101, is imported nowhere)
-- bugs: see app_stream_poll
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_project_id_timestamp_idx
-- params: stream_poll_project
-- binds: limit=50, offset=0
-- The stream poll with the route's optional projectId filter (timestamp first, then projectId, as the route builds
-- where).
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE ("public"."agent_events"."timestamp" >= %(since)s AND "public"."agent_events"."project_id" = %(project_id)s)
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

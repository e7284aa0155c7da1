-- kind: app
-- origin: application
-- source: no call site (docs/app-workload.md); the design document's example WHERE data @> '{"filePath": ...}'
--    (PHASE2_IMPLEMENTATION.md) with a bind parameter
-- does: events whose data contains {"filePath": <path>}
-- frequency: none at 05063cc: a what-if case
-- bugs: none
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_data_idx
-- params: file_path_document
-- binds: offset=0
-- The contrast: containment on the column itself, "data" @> $1, the only form of a JSON filter the jsonb_ops GIN
-- index can serve. Prisma has no object containment filter; its array_contains without a path reduces to this plus
-- JSONB_TYPEOF(data) = 'array', which no object row passes, so an application would write it with $queryRaw.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE "public"."agent_events"."data" @> %(data_contains)s
OFFSET %(offset)s

-- kind: app
-- origin: application
-- source: GET packages/web/app/api/projects/[name]/events/route.ts@05063cc:25-103
-- does: a project's events in a time range, newest first
-- frequency: none at 05063cc: the route always answers 400 and no page calls it (a what-if case, measured as when
--    fixed)
-- bugs: the route always answers 400 at 05063cc: it reads params.id inside a [name] folder (renamed in 5796a87
--    without the code), so parseInt(undefined) is NaN; measured as when fixed
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: agent_events_project_id_timestamp_idx
-- params: project_events_window
-- binds: limit=100, offset=0
-- Prisma, as the route would run once fixed: agentEvent.findMany({ where: { projectId, timestamp: { gte: from, lte:
-- to } }, orderBy: { timestamp: 'desc' }, take: 100, include: { session: true, project: true } }) with the default
-- page of 100 and a from/to range of the last 7 days (the optional eventType/agentId/severity filters are left
-- out). The include statements are not measured.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE ("public"."agent_events"."project_id" = %(project_id)s AND "public"."agent_events"."timestamp" >= %(from)s AND "public"."agent_events"."timestamp" <= %(to)s)
ORDER BY "public"."agent_events"."timestamp" DESC
LIMIT %(limit)s OFFSET %(offset)s

-- kind: app
-- origin: application
-- source: no call site (docs/app-workload.md); rendering from prisma-engines quaint/src/visitor/postgres.rs
--    visit_json_array_contains and visit_json_type_equals
-- does: events whose data.filePath is an array containing a path
-- frequency: none at 05063cc: a what-if case
-- bugs: none
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: none
-- params: file_path_array
-- binds: json_path=filePath, json_path_again=filePath, json_type=array, offset=0
-- What Prisma's array_contains JSON filter with a path compiles to: agentEvent.findMany({ where: { data: { path:
-- ['filePath'], array_contains: ['<path>'] } } }); Prisma binds the path twice. filePath holds a string, not an
-- array, in this data as in the Go collector's, so it matches no row: what it measures is the scan the form forces,
-- since #> on the left of @> cannot use the GIN index.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE (("public"."agent_events"."data"#>ARRAY[%(json_path)s]::text[])::jsonb @> %(json_value)s
  AND JSONB_TYPEOF(("public"."agent_events"."data"#>ARRAY[%(json_path_again)s]::text[])::jsonb) = %(json_type)s)
OFFSET %(offset)s

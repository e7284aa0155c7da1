-- kind: app
-- origin: application
-- source: no call site: no application code filters data (docs/app-workload.md: no `@>`, no path:, no
--    array_contains in *.ts/*.tsx at 05063cc); rendering from prisma-engines quaint/src/visitor/postgres.rs
--    visit_json_extract
-- does: events whose data.filePath equals a path
-- frequency: none at 05063cc: a what-if case answering whether any Prisma filter on data could use the Phase 2 GIN
--    index
-- bugs: none
-- columns: the 14 columns of the harness table, qualified as Prisma writes them; the application's 15th column at
--    05063cc, "chatSessionId", is left out because the harness table (the schema of 76d6a0d) has no such column
-- after_uses: none
-- params: file_path_equals
-- binds: json_path=filePath, offset=0
-- What a Prisma JSON filter on data compiles to: agentEvent.findMany({ where: { data: { path: ['filePath'], equals:
-- '<path>' } } }). The path element and the JSON value are bind parameters; the extraction #> on the left of =
-- cannot be served by the jsonb_ops GIN index on data (prisma/prisma issue 23023). The Go collector writes filePath
-- into data, which is why data is filtered here; the TypeScript model documents it in context, which no index
-- covers.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity"
FROM "public"."agent_events"
WHERE ("public"."agent_events"."data"#>ARRAY[%(json_path)s]::text[])::jsonb::jsonb = %(json_value)s
OFFSET %(offset)s

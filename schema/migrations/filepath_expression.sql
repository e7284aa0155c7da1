-- promises: none
-- One B-tree on the expression Prisma's JSON filter renders (app_json_filter: `data #> ARRAY['filePath']::text[]
-- = $value`), on top of the indexes before Phase 2. GIN (either operator class) cannot serve `#>` extraction
-- compared with `=`; an expression index on exactly `data #> '{filePath}'` can, when the planner sees the path
-- as a constant (custom plans fold ARRAY[$1]::text[] to '{filePath}'). Only the filePath key is covered: a filter
-- on another key would need its own index. Tests whether the application's real JSON query can get an index.
CREATE INDEX IF NOT EXISTS "agent_events_data_file_path_idx" ON "public"."agent_events"(("data" #> '{filePath}'));

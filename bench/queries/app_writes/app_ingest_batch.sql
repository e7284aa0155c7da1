-- kind: app
-- origin: application
-- source: POST packages/web/app/api/events/batch/route.ts@05063cc:155-172 -> prisma.agentEvent.createMany({ data,
--    skipDuplicates: true }); validation packages/web/schemas/hierarchy.ts@05063cc:59-80 (.max(1000))
-- does: the batch route's events insert: one multi-row INSERT per request, after the route has inserted the
--    batch's sessions (app_ingest_sessions)
-- frequency: once per batch request; the Go collector sends batches of up to batchSize events (default 100, at most
--    1000: packages/collector/internal/config/config.go@05063cc:61-66,168-170) every 5 s or when 100 are pending
-- bugs: zod strips the collector's event id, so Prisma generates a fresh uuid for every row and ON CONFLICT DO
--    NOTHING can never skip a retried event: a retried batch is inserted twice
-- columns: the 14 columns of the model in model order; Prisma writes the fields present in any row of the batch
--    in the order of a Rust HashSet (inferred), never "chatSessionId"; rows missing a field get NULL here
-- params: none
-- Prisma 6.15 rendering (inferred from prisma-engines): {rows} is one tuple of 14 bind parameters per event, so a
-- batch of 1000 sends 14,000 parameters in one statement (under the 32,767 limit, so Prisma does not split it).
INSERT INTO "public"."agent_events" ("id", "timestamp", "event_type", "agent_id", "agent_version", "session_id", "project_id", "context", "data", "metrics", "parent_event_id", "related_event_ids", "tags", "severity")
VALUES {rows}
ON CONFLICT DO NOTHING

-- kind: app
-- origin: application
-- source: POST packages/web/app/api/events/route.ts@05063cc:73-147 -> AgentEventService.collectEvent,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:130-160 -> prisma.agentEvent.create
-- does: the single-event route: one INSERT ... RETURNING of every column (Prisma reads the row back in the same
--    statement); the session is not auto-created, so a missing session or project fails on its foreign key
--    (the route answers 500)
-- frequency: no production caller at 05063cc: the Go collector's SendSingleEvent posts eventType and no
--    context.workingDirectory, which this route rejects with 400, and only an integration test uses it
-- bugs: create stamps timestamp = new Date() on the server instead of the event's own time
-- columns: the 14 provided fields (metrics and parent_event_id only when given; NULL here); RETURNING the 15 columns
--    of the model at 05063cc, "chatSessionId" included
-- params: none
-- Prisma 6.15 rendering (inferred): {rows} is one tuple of 14 bind parameters; no ON CONFLICT.
INSERT INTO "public"."agent_events" ("id", "timestamp", "event_type", "agent_id", "agent_version", "session_id", "project_id", "context", "data", "metrics", "parent_event_id", "related_event_ids", "tags", "severity")
VALUES {rows}
RETURNING "public"."agent_events"."id", "public"."agent_events"."timestamp", "public"."agent_events"."event_type", "public"."agent_events"."agent_id", "public"."agent_events"."agent_version", "public"."agent_events"."session_id", "public"."agent_events"."project_id", "public"."agent_events"."context", "public"."agent_events"."data", "public"."agent_events"."metrics", "public"."agent_events"."parent_event_id", "public"."agent_events"."related_event_ids", "public"."agent_events"."tags", "public"."agent_events"."severity", "public"."agent_events"."chatSessionId"

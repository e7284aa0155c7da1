-- kind: app
-- origin: application
-- source: POST packages/web/app/api/events/batch/route.ts@05063cc:140-151 -> prisma.agentSession.createMany({ data:
--    one row per distinct sessionId of the batch, skipDuplicates: true })
-- does: the batch route auto-creates the sessions its events name (context {"autoCreated": true}, metrics {}),
--    so the events' session foreign key cannot fail; the projects are not created, so a missing project fails
--    here first, on agent_sessions_project_id_fkey
-- frequency: once per batch request, before the events insert
-- bugs: none in this statement; its conflicts are real (a session's later batches find it present)
-- params: none
-- Prisma 6.15 rendering (inferred): {rows} is one tuple of 7 bind parameters per distinct session.
INSERT INTO "public"."agent_sessions" ("id", "agent_id", "agent_version", "project_id", "start_time", "context", "metrics")
VALUES {rows}
ON CONFLICT DO NOTHING

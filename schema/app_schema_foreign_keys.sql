-- The foreign keys of agent_events that prisma/schema.prisma declares at devlog 05063cc (AgentEvent :344-350), as
-- Prisma names them: session_id -> agent_sessions(id) (at 76d6a0d it was chat_sessions("sessionId"); migration
-- 20251102000000_fix_agent_events_session_fk re-pointed it), project_id -> projects(id), both ON DELETE CASCADE;
-- "chatSessionId" -> chat_sessions(id), ON DELETE SET NULL (Prisma's default for an optional relation, inferred).
ALTER TABLE "public"."agent_events" ADD CONSTRAINT "agent_events_session_id_fkey" FOREIGN KEY ("session_id")
    REFERENCES "public"."agent_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "public"."agent_events" ADD CONSTRAINT "agent_events_project_id_fkey" FOREIGN KEY ("project_id")
    REFERENCES "public"."projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "public"."agent_events" ADD CONSTRAINT "agent_events_chatSessionId_fkey" FOREIGN KEY ("chatSessionId")
    REFERENCES "public"."chat_sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The application-schema variant (app_writes suite only, in its scratch databases): the parent tables of
-- agent_events as prisma/schema.prisma declares them at devlog 05063cc (models Project :15-36, ChatSession :257-279,
-- AgentSession :366-395), with Prisma's naming of constraints and indexes. Built from the schema, not from
-- prisma/migrations: the migrations never create "projects" (their foreign keys name devlog_projects) and never
-- add "chatSessionId". Relations of these tables to machines and workspaces are left out (a recorded deviation).
CREATE TABLE "public"."projects" (
    "id"          SERIAL      NOT NULL,
    "name"        TEXT        NOT NULL,
    "fullName"    TEXT        NOT NULL,
    "repoUrl"     TEXT        NOT NULL,
    "repoOwner"   TEXT        NOT NULL,
    "repoName"    TEXT        NOT NULL,
    "description" TEXT,
    "created_at"  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at"  TIMESTAMPTZ NOT NULL,
    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "projects_fullName_key" ON "public"."projects"("fullName");
CREATE UNIQUE INDEX "projects_repoUrl_key" ON "public"."projects"("repoUrl");
CREATE INDEX "projects_fullName_idx" ON "public"."projects"("fullName");
CREATE INDEX "projects_repoUrl_idx" ON "public"."projects"("repoUrl");

CREATE TABLE "public"."agent_sessions" (
    "id"            UUID         NOT NULL,
    "agent_id"      TEXT         NOT NULL,
    "agent_version" TEXT         NOT NULL,
    "project_id"    INTEGER      NOT NULL,
    "start_time"    TIMESTAMPTZ  NOT NULL,
    "end_time"      TIMESTAMPTZ,
    "duration"      INTEGER,
    "context"       JSONB        NOT NULL DEFAULT '{}',
    "metrics"       JSONB        NOT NULL DEFAULT '{}',
    "outcome"       TEXT,
    "quality_score" DECIMAL(5,2),
    CONSTRAINT "agent_sessions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "agent_sessions_start_time_idx" ON "public"."agent_sessions"("start_time" DESC);
CREATE INDEX "agent_sessions_agent_id_idx" ON "public"."agent_sessions"("agent_id");
CREATE INDEX "agent_sessions_project_id_idx" ON "public"."agent_sessions"("project_id");
CREATE INDEX "agent_sessions_outcome_idx" ON "public"."agent_sessions"("outcome");
CREATE INDEX "agent_sessions_quality_score_idx" ON "public"."agent_sessions"("quality_score");
ALTER TABLE "public"."agent_sessions" ADD CONSTRAINT "agent_sessions_project_id_fkey" FOREIGN KEY ("project_id")
    REFERENCES "public"."projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Only for the "chatSessionId" foreign key of agent_events; its workspace relation is not created.
CREATE TABLE "public"."chat_sessions" (
    "id"            SERIAL      NOT NULL,
    "sessionId"     UUID        NOT NULL,
    "workspace_id"  INTEGER     NOT NULL,
    "agent_type"    TEXT        NOT NULL,
    "model_id"      TEXT,
    "started_at"    TIMESTAMPTZ NOT NULL,
    "ended_at"      TIMESTAMPTZ,
    "message_count" INTEGER     NOT NULL DEFAULT 0,
    "total_tokens"  INTEGER     NOT NULL DEFAULT 0,
    "created_at"    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chat_sessions_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "chat_sessions_sessionId_key" ON "public"."chat_sessions"("sessionId");

-- The 15th column of AgentEvent at 05063cc (schema.prisma:349-350, no @map); nullable, never set by the routes.
ALTER TABLE "public"."agent_events" ADD COLUMN "chatSessionId" INTEGER;

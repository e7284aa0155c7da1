-- Parents for the rows already in a scratch copy of agent_events (application-schema variant): one project per
-- project id the dataset spec can generate (1 .. %(projects)s), and one session per session of the copied rows,
-- as the batch route auto-creates them (context {"autoCreated": true}, start_time its first event).
INSERT INTO "public"."projects" ("id", "name", "fullName", "repoUrl", "repoOwner", "repoName", "updated_at")
SELECT g, 'project-' || g, 'bench/project-' || g, 'git@example.invalid:bench/project-' || g || '.git', 'bench',
       'project-' || g, CURRENT_TIMESTAMP
FROM generate_series(1, %(projects)s) AS g;

SELECT setval(pg_get_serial_sequence('"public"."projects"', 'id'), %(projects)s);

INSERT INTO "public"."agent_sessions" ("id", "agent_id", "agent_version", "project_id", "start_time", "context", "metrics")
SELECT "session_id", min("agent_id"), min("agent_version"), min("project_id"), min("timestamp"),
       '{"autoCreated": true}', '{}'
FROM "public"."agent_events"
GROUP BY "session_id";

ANALYZE "public"."projects";
ANALYZE "public"."agent_sessions";

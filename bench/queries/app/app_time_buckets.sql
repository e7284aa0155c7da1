-- kind: app
-- origin: application
-- source: AgentEventService.getTimeBucketStats,
--    packages/core/src/agent-observability/events/agent-event-service.ts@05063cc:365-445
-- does: analytics: event counts and metric averages per time bucket
-- frequency: none at 05063cc: nothing outside tests calls getTimeBucketStats, getHourlyStats or getDailyStats (a
--    what-if case)
-- bugs: the averages read metrics->>'duration' while the Go collector writes durationMs, so avg_duration is NULL
--    for collector data
-- columns: not a Prisma model read: the statement selects aggregates
-- after_uses: none
-- params: time_bucket_project
-- binds: bucket_width=1 hour
-- engines: timescaledb
-- Raw SQL through prisma.$queryRawUnsafe, text as the service builds it with a project and a time range and no
-- agent or event type: hourly buckets of one project's last day. The app numbers the interval last ($4); psycopg
-- numbers placeholders in order of appearance, so it is $1 here: the same statement otherwise. Not run on the
-- partitions engine: time_bucket needs TimescaleDB and a date_trunc stand-in would be another query.
-- Prisma 6.15 rendering (docs/app-workload.md, inferred from prisma-engines' quaint visitor): qualified columns
-- in model order, take/skip as LIMIT/OFFSET bind parameters, OFFSET sent even when skip is not given. psycopg sends
-- the named parameters below as $1, $2, ... in order of appearance.
SELECT
  time_bucket(%(bucket_width)s, timestamp) AS bucket,
  project_id,
  agent_id,
  COUNT(*) as event_count,
  AVG((metrics->>'duration')::numeric) as avg_duration,
  SUM((metrics->>'tokenCount')::numeric) as total_tokens,
  AVG((metrics->>'promptTokens')::numeric) as avg_prompt_tokens,
  AVG((metrics->>'responseTokens')::numeric) as avg_response_tokens
FROM agent_events
WHERE project_id = %(project_id)s AND timestamp >= %(from)s AND timestamp <= %(to)s
GROUP BY bucket, project_id, agent_id
ORDER BY bucket DESC

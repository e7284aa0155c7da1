-- A planted regression: the timestamp index is dropped and nothing replaces it, so time-window queries (the
-- controls on the last 24 hours, the dashboards, the latest events) lose their index. A gate must fail it.
-- On a partitioned table or hypertable this drops the index of every partition or chunk too.
DROP INDEX IF EXISTS "agent_events_timestamp_idx";

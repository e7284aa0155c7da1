-- How the application writes events: one multi-row INSERT per batch. The suites fill {columns} with the
-- COPY column list and {rows} with one placeholder tuple per row (psycopg.sql, never pasted text).
INSERT INTO "agent_events" ({columns}) VALUES {rows}

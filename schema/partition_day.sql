-- One daily partition of the native fallback. Placeholders are filled by bench/schema.py with
-- psycopg.sql (identifiers and literals are quoted there, never pasted as text).
CREATE TABLE {partition} PARTITION OF "public"."agent_events" FOR VALUES FROM ({day_start}) TO ({day_end});

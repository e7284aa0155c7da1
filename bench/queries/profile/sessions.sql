-- Per session of a subset (picked by a hash of the id among the sessions in {source}): all its events in the
-- table, the table pages they lie on (TABLESAMPLE SYSTEM picks a session through any of them), first-to-last
-- seconds, the longest pause between consecutive events, the UTC weekday (ISO) and hour it began at and its
-- agent ({agent}: the name, or a rank when agent names may not be written).
WITH seen AS (
    SELECT DISTINCT session_id FROM {source}
), chosen AS (
    SELECT session_id FROM seen ORDER BY md5(session_id::text) LIMIT %(max_sessions)s
), events AS (
    SELECT e.session_id, e.agent_id, e."timestamp", e.tableoid::text || '/' || (e.ctid::text::point)[0]::text AS page,
           e."timestamp" - lag(e."timestamp") OVER (PARTITION BY e.session_id ORDER BY e."timestamp") AS pause
    FROM {table} AS e JOIN chosen USING (session_id)
), sessions AS (
    SELECT count(*) AS events,
           count(DISTINCT page) AS pages,
           extract(epoch FROM max("timestamp") - min("timestamp"))::float8 AS duration_s,
           coalesce(extract(epoch FROM max(pause)), 0)::float8 AS longest_pause_s,
           extract(isodow FROM min("timestamp"))::int AS start_weekday,
           extract(hour FROM min("timestamp"))::int AS start_hour,
           min(agent_id) AS agent
    FROM events
    GROUP BY session_id
)
SELECT events, pages, duration_s, longest_pause_s, start_weekday, start_hour, {agent} AS agent
FROM sessions

-- Rows per UTC weekday (ISO: Monday 1 .. Sunday 7) and hour of day.
SELECT extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::int AS weekday,
       extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::int AS hour,
       count(*) AS rows
FROM {source}
GROUP BY 1, 2

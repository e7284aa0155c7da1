-- Since when pg_stat_statements has counted (its last reset), where the extension says so (1.9 and later).
SELECT stats_reset FROM {info}

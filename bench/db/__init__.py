"""The databases themselves: PostgreSQL binaries (pg_binaries), embedded servers run as the service account
(embedded, server_use, server_settings), the two instances (instances), the safety checks and the harness's
marker and locks (database), schema and migrations (schema, candidate_apply), the physical copy of before into
after (clone), EXPLAIN capture (plans), sizes (storage), cache state (cache_state), status and environment."""

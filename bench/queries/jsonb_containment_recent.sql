-- kind: promise
-- origin: design document
-- promise: jsonb_containment
-- params: file_path_recent_hour
-- after_uses: agent_events_data_idx
-- Events that touched a file in the last hour: containment combined with a time range.
SELECT * FROM agent_events
WHERE data @> %(file_path_doc)s::jsonb
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 hour'

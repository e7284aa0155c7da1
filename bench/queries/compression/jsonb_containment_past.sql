-- kind: promise
-- origin: design document
-- promise: jsonb_containment
-- params: file_path_past_day
-- after_uses: agent_events_data_idx
-- Events that touched a file during a past day that ends at %(now)s (compressed chunks only, `now` 7 days back).
SELECT * FROM agent_events
WHERE data @> %(file_path_doc)s::jsonb
  AND "timestamp" > %(now)s::timestamptz - INTERVAL '1 day'
  AND "timestamp" < %(now)s::timestamptz

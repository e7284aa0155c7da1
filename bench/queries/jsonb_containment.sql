-- kind: promise
-- origin: design document
-- promise: jsonb_containment
-- params: file_path_any
-- after_uses: agent_events_data_idx
-- The design document's JSONB query: every event that touched a file, over the whole table.
SELECT * FROM agent_events
WHERE data @> %(file_path_doc)s::jsonb

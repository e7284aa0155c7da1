-- The newest event: in steady state the stream poll's lower bound is its timestamp (the route re-reads it).
SELECT max("timestamp") AS newest FROM agent_events

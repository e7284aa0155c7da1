"""Synthetic agent_events data: the dataset shape (shape), the values drawn from (vocabulary), vectorised
generation in time order (events) and PostgreSQL COPY text encoding (copy_format)."""

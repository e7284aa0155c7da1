"""Which suites exist: importing this module registers them (their code is imported only when they run)."""


# register("write_cost", "write_cost", "ingest rate before vs after (batched INSERT and COPY)")

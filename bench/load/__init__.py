"""Loading a dataset: streaming the generator's rows into both instances with COPY (loader, parallel), the
server's own COPY FROM ceiling (ceiling), and profiling an existing database into a dataset profile (profile,
statements)."""

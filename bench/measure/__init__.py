"""Measuring on the two instances: query parameters (params), the interleaved timing of one case (timing), a
whole run (run) and the suites beyond the query timings (suites/).
"""

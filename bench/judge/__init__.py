"""Judging measured samples: statistics and the one bootstrap (stats), the promises and the verdict rules
(verdicts), from records to verdicts (analysis), and the CI gate (gate). Reads results, never a database.
"""

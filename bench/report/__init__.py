"""Reporting from results documents alone: the shared figure look (figure_style), the run's figures (plots,
plots_compare and one plots_<suite> module per suite) in one registry (figures), report.md and report.html
(document), two runs side by side (compare) and the terminal tables (summary). Never imports a database driver.
"""

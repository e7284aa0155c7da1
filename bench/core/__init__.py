"""The bottom layer, plain Python that every other layer may import: configuration, errors, engine kinds, query
cases and SQL files, the results document, the verdict vocabulary (verdict_words) and how figures are written
(formatting). It loads no database driver and no plotting library.
"""

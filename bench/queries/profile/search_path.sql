-- Where an unqualified table name is looked for (named when the table is missing).
SELECT current_setting('search_path')

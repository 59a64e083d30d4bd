"""The warehouse: the one DuckDB file analysts read, and how every phase opens, writes and publishes it.

* `sql`          finds a file under `sql/` and runs multi-statement scripts with bound parameters;
* `session`      the schema (DDL, dataset tables) and the one way to open the file: `writer()` on the
                 building copy, `reader()` on the published file, `transaction()` on a connection;
* `append`       large chunked inserts of Polars frames;
* `runs`         the `runs` table: a run opened, closed, listed;
* `publication`  the building copy of the published file and its atomic swap (ADR 0008);
* `views`        the analyst views of `sql/views/`.

Nothing here knows about datasets' meaning, rules or cases: it imports only `schemas`.
"""

"""Detection: every rule of `pipelines.rules` over the datasets in force, merged into `suspects`.

* `stage`     datasets leave DuckDB as Arrow IPC files and come back as lazy scans;
* `engine`    one rule over given tables (Polars, validated against the suspects shape), shard by shard
              when large, and the rule's SQL twin over DuckDB (the cross-check);
* `findings`  a run's findings merged into `suspects`, or carried forward when nothing detection reads
              has changed.

The rules themselves stay pure functions of LazyFrames; all I/O is here. Imports `schemas`,
`pipelines.rules` and `pipelines.warehouse` only.
"""

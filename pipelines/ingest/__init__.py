"""Ingestion: the night's inbox files into the warehouse's dataset tables, validated, nothing lost.

* `inbox`      the files delivered (`INBOX/<dataset>/<file>`), their sha256;
* `readers`    one file (CSV in UTF-8 or GB18030, XLSX, Parquet) -> batches of raw text cells;
* `normalize`  the value forms of the contract -> canonical values, with a reason where a cell fails;
* `batch`      one batch -> valid canonical rows plus quarantine rows (headers, normalise, validate);
* `registry`   `ingested_files`: the version in force of each delivered file, files that repeat another;
* `load`       a dataset's files, each skipped / replaced / loaded / rejected, committed in groups;
* `withdrawal` `fundwatch withdraw` requests, applied by a run before it ingests (ADR 0011);
* `reasons`    short, sanitised excerpts of file content and library messages for reasons.

Imports `schemas` and `pipelines.warehouse` only.
"""

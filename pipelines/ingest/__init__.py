"""Ingestion: the night's inbox files into the warehouse's dataset tables, validated, nothing lost.

* `inbox`      the files delivered (`INBOX/<dataset>/<file>`), their sha256;
* `readers`    one file (CSV in UTF-8 or GB18030, XLSX, Parquet) -> batches of raw text cells;
* `normalize`  the value forms of the contract -> canonical values, with a reason where a cell fails;
* `batch`      one batch -> valid canonical rows plus quarantine rows (headers, normalise, validate);
* `registry`   `ingested_files`: the version in force of each delivered file;
* `load`       a dataset's files, each skipped / replaced / loaded / rejected, committed in groups.

Imports `schemas` and `pipelines.warehouse` only.
"""

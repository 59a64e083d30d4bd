#!/usr/bin/env bash
# Wall time and peak memory of `fundwatch run` (ingest + rules; phases in the runs table) on a generated dirty inbox.
# Usage: bash bench/ingest.sh [PERSONS]   (default 1000000; the inbox is cached under bench/cache/)
# The full benchmark with the SQL peer and per-phase timings is `make bench` (issue 6).
set -euo pipefail
cd "$(dirname "$0")/.."
persons="${1:-1000000}"
inbox="bench/cache/dirty-${persons}"
db="bench/cache/ingest-${persons}.duckdb"
mkdir -p bench/cache
if [ ! -f "$inbox/_truth/summary.json" ]; then
  /usr/bin/time -f "synth: %e s wall, %M KB peak" .venv/bin/fundwatch synth --persons "$persons" --seed 1 --out "$inbox" >/dev/null
fi
rm -f "$db" "$db.wal"
set +e
/usr/bin/time -f "run (ingest + rules): %e s wall, %M KB peak RSS" .venv/bin/fundwatch run --inbox "$inbox" --db "$db" --as-of 2026-11-27 \
  > "bench/cache/ingest-${persons}.log" 2>&1
status=$?
set -e
tail -n 25 "bench/cache/ingest-${persons}.log"
echo "exit status: $status (1 = planted bad rows and files reported)"
[ "$status" -le 1 ]

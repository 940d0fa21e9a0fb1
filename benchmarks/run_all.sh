#!/usr/bin/env bash
# Run every benchmark, one after the other: generation in memory, storage on SQLite, storage on a
# throw-away PostgreSQL (skipped with a note when no server binaries are installed).
# From the repository root: benchmarks/run_all.sh [PYTHON]   (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
"$python" benchmarks/bench_generation.py
echo
"$python" benchmarks/bench_storage.py
echo
if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  scripts/with-postgres "$python" benchmarks/bench_storage.py
else
  echo "# PostgreSQL storage benchmark skipped: no server under /usr/lib/postgresql (apt-get install postgresql)"
fi

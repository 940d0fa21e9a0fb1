#!/usr/bin/env bash
# Run every benchmark, one after the other: generation in memory, storage on SQLite, storage on a
# throw-away PostgreSQL (skipped with a note when no server binaries are installed), the models
# (training, explanations, global SHAP), external validation at another site, the patient page
# (skipped with a note, exit status 2, while the page does not exist or answers 404), the "Does it
# travel?" page, the cohort and model pages' server time and every page's browser load, and a class browsing during two trainings and a 20,000-patient generation on make
# run's SQLite set-up.
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
echo
"$python" benchmarks/bench_models.py
echo
"$python" benchmarks/bench_external_validation.py
echo
status=0
"$python" benchmarks/bench_patient_page.py || status=$?
if [ "$status" -eq 2 ]; then
  echo "# patient page benchmark not measured (see the reason above)"
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
echo
"$python" benchmarks/bench_travel_page.py
echo
"$python" benchmarks/bench_pages.py
echo
"$python" benchmarks/bench_browser.py
echo
"$python" benchmarks/bench_class_during_training.py

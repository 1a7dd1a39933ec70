#!/usr/bin/env bash
# Set up the project on a fresh machine: a virtualenv in .venv with the locked versions.
#   bash scripts/setup.sh          # to run the app
#   bash scripts/setup.sh --dev    # to run the tests too (pytest, ruff, mypy)
# Needs only Python 3.11 and pip. Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "usage: bash scripts/setup.sh [--dev]" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
lock=requirements.lock
[ "$dev" = 1 ] && lock=requirements-dev.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$lock"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

# Never let coverage.py into this environment: it shares the import name `coverage`.
if .venv/bin/python -m pip show coverage >/dev/null 2>&1; then
  echo "setup: coverage.py is installed in .venv and clashes with the package 'coverage';" \
       "remove it: .venv/bin/pip uninstall coverage pytest-cov" >&2
  exit 1
fi

# Tests drive the real app and the PNG export in Debian's Chromium (never a downloaded browser),
# and run the store against a real PostgreSQL server (with PostGIS) that the tests start.
if [ "$dev" = 1 ]; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)  # PDF pages to PNG in tests
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
    || need+=(postgresql-15-postgis-3)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "setup: install Debian's ${need[*]} (sudo apt-get install ${need[*]})" \
           "for the browser and PostgreSQL tests" >&2
    fi
  fi
fi

# Parse the demo district's roads once, so the app and CLI load them in about a second.
.venv/bin/python -m coverage -q prepare --roads geodata/peshawar/roads.osm.pbf

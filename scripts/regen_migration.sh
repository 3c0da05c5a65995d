#!/usr/bin/env bash
# Regenerate the initial Alembic migration from the models (only while nothing is released).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f data/migrations/versions/0001_initial_schema.py
python - "$tmp" <<'PY'
import sys
from alembic import command
from data.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/gen.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i 's/data\.models\.base\.UTCDateTime(timezone=True)/sa.DateTime(timezone=True)/g; /^import data.models.base$/d; /^Create Date:/d' data/migrations/versions/0001_initial_schema.py
ruff check -q --fix --select I data/migrations/versions/0001_initial_schema.py
ruff format -q data/migrations/versions/0001_initial_schema.py
rm -rf "$tmp"
echo "regenerated data/migrations/versions/0001_initial_schema.py"

#!/usr/bin/env bash
# The runtime dependencies are complete: the project installed WITHOUT its dev extras, in a throwaway
# venv, imports every product module and finds its data files. (.ci/run runs it after the tests.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
mkdir "$tmp/src"  # built from a copy: setuptools leaves build/ and *.egg-info beside what it builds
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$tmp/src" -xf -
.venv/bin/uv pip install -q --python "$tmp/venv/bin/python" "$tmp/src" 2>&1 | grep -v "^WARNING" || true
cd "$tmp"  # away from the checkout: only the installed package can be imported
"$tmp/venv/bin/python" - <<'PY'
import importlib, pkgutil
names = []
for top in ("core", "extractors", "validators", "pipeline", "inbox", "results", "flows", "intake"):
    pkg = importlib.import_module(top)
    names.append(top)
    names += [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".")]
for name in names:
    importlib.import_module(name)
from extractors.care_sheet.layout import zones
assert zones(), "layout.json not installed"
print(f"runtime dependencies: {len(names)} product modules import without the dev extras")
PY

#!/usr/bin/env bash
# Installs everything on a fresh Debian machine (run as root from the repo root):
# system packages (Tesseract + French, poppler, fonts for the sample generator),
# then .venv/ with the project in editable mode and the `intake` command.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-osd  # OCR, French + English + orientation
  libtesseract-dev libleptonica-dev pkg-config  # tesserocr builds against Debian's libtesseract (same reading as the command)
  g++ python3-dev                                # tesserocr's C++ extension: compiler and Python headers
  poppler-utils qpdf                                                    # PDF rendering; encrypted test PDFs
  fonts-liberation2 fonts-dejavu-core fonts-dejavu-extra fonts-freefont-ttf  # print fonts of generated documents
  fonts-dkg-handwriting fonts-breip fonts-rufscript fonts-ecolier-court      # handwriting in generated forms
  fonts-dancingscript fonts-humor-sans fonts-kaushanscript fonts-comic-neue
  fonts-klee fonts-bwht fonts-femkeklaver                                 # femkeklaver: care-sheet calibration bench
  chromium                                                              # tests/test_ui.py looks at the Prefect UI
  postgresql                                                            # tests/test_db.py: the results DB on PostgreSQL
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip uv
# uv resolves and installs ~10x faster than pip here. tesserocr from source: the PyPI wheel bundles its
# own libtesseract (5.5), not the one of Debian's `tesseract` command (5.3) the engines are compared on.
# --compile-bytecode: uv writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is set (or the
# venv is not the runner's to write) every process then compiles its ~2 800 imported modules again:
# ~10 s of CPU per `intake run`, and again in the Prefect server's process and every test worker.
.venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode --no-binary tesserocr -e '.[dev]'
.venv/bin/python -m compileall -q core extractors validators pipeline inbox results flows intake evaluation > /dev/null
.venv/bin/intake --help > /dev/null
# the care sheet's digit classifier, trained once and kept in ~/.cache/claims-intake (extractors/care_sheet/digits.py)
.venv/bin/python -c "from extractors.care_sheet.digits import model; model()"
echo "installed: $(.venv/bin/python --version), tesseract $(tesseract --version 2>&1 | head -1 | cut -d' ' -f2), .venv/bin/intake"

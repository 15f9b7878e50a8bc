"""Start-up checks of `intake run`: the tools and folders a run needs, looked at before anything moves.

`check(inbox, out, archive, settings)` runs the OCR engine's command (`--version`, `--list-langs`),
looks for poppler and looks at the folders, and returns the problems found (empty: go). It
creates nothing, claims nothing and never imports Prefect: a run that cannot work stops
before the first dossier is touched, with a message that says what to install or fix.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from extractors.pages.ocr import engine_for
from core.settings import Settings

MIN_TESSERACT_MAJOR = 4  # the LSTM engine (--oem 1) and the TSV output we parse appeared in 4.0
POPPLER_TOOLS = ("pdftoppm", "pdfinfo")  # pdf2image renders with pdftoppm and sizes pages with pdfinfo
OSD_LANGUAGE = "osd"  # Tesseract's orientation data, asked for pages our own method is unsure of
PROBE_TIMEOUT_S = 20.0  # `tesseract --version` answers in milliseconds; a hung binary must not hang the start
_VERSION = re.compile(r"tesseract\s+v?(\d+)\.(\d+)(?:\.(\d+))?", re.IGNORECASE)


class ProblemKind(StrEnum):
    DEPENDENCY = "dependency"  # a program or its data is missing or too old
    ACCESS = "access"  # a folder cannot be read, created or written


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message_fr: str  # for the operator: what is wrong and what to do


def _probe(command: str, *args: str) -> subprocess.CompletedProcess[str] | None:
    """`command args` with its output as text, or None when it cannot run or hangs."""
    try:
        return subprocess.run([command, *args], capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None


def tesseract_version(command: str) -> tuple[int, int, int] | None:
    """The version `command --version` prints (tesseract 3.x printed it on stderr), or None."""
    done = _probe(command, "--version")
    if done is None or done.returncode != 0:
        return None
    m = _VERSION.search(done.stdout + "\n" + done.stderr)
    return (int(m[1]), int(m[2]), int(m[3] or 0)) if m else None


def tesseract_languages(command: str) -> set[str] | None:
    """The language data `command --list-langs` lists, or None when it cannot say."""
    done = _probe(command, "--list-langs")
    if done is None or done.returncode != 0:
        return None
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.lower().startswith("list of available")}


def _check_tesseract(command: str, languages: str) -> list[Problem]:
    if shutil.which(command) is None:
        return [Problem(ProblemKind.DEPENDENCY,
                        f"Tesseract introuvable (commande « {command} » absente du PATH) : "
                        "installez-le (Debian/Ubuntu : apt-get install tesseract-ocr tesseract-ocr-fra).")]
    version = tesseract_version(command)
    if version is None:
        return [Problem(ProblemKind.DEPENDENCY,
                        f"Tesseract (« {command} ») ne répond pas à --version : réinstallez-le "
                        "(apt-get install --reinstall tesseract-ocr).")]
    if version[0] < MIN_TESSERACT_MAJOR:
        return [Problem(ProblemKind.DEPENDENCY,
                        f"Tesseract {'.'.join(map(str, version))} est trop ancien (version "
                        f"{MIN_TESSERACT_MAJOR} ou plus requise) : mettez à jour le paquet tesseract-ocr.")]
    have = tesseract_languages(command)
    if have is None:
        return [Problem(ProblemKind.DEPENDENCY,
                        f"Tesseract (« {command} ») ne sait pas lister ses langues (--list-langs) : "
                        "réinstallez-le (apt-get install --reinstall tesseract-ocr).")]
    need = [lang for lang in languages.split("+") if lang] + [OSD_LANGUAGE]
    missing = [lang for lang in dict.fromkeys(need) if lang not in have]
    return [Problem(ProblemKind.DEPENDENCY,
                    f"Données de langue Tesseract manquantes : {lang} (réglages INTAKE_OCR_LANGUAGES, "
                    f"INTAKE_OCR_LANGUAGES_SECOND, INTAKE_CARE_SHEET_OCR_LANGUAGES) : installez-les "
                    f"(apt-get install tesseract-ocr-{lang}).")
            for lang in missing]


def _check_poppler() -> list[Problem]:
    return [Problem(ProblemKind.DEPENDENCY,
                    f"Poppler introuvable (commande « {tool} » absente du PATH), nécessaire pour lire les "
                    "PDF : installez-le (apt-get install poppler-utils).")
            for tool in POPPLER_TOOLS if shutil.which(tool) is None]


def _check_inbox(inbox: Path) -> list[Problem]:
    if not inbox.exists():
        return [Problem(ProblemKind.ACCESS, f"Boîte de réception introuvable : {inbox}")]
    if not inbox.is_dir():
        return [Problem(ProblemKind.ACCESS, f"La boîte de réception n'est pas un dossier : {inbox}")]
    # a run claims a dossier by renaming it inside the inbox: it must be listed and written
    if not os.access(inbox, os.R_OK | os.X_OK):
        return [Problem(ProblemKind.ACCESS, f"Boîte de réception illisible (droits) : {inbox}")]
    if not os.access(inbox, os.W_OK):
        return [Problem(ProblemKind.ACCESS, f"Boîte de réception en lecture seule (droits), les dossiers ne "
                                            f"peuvent pas y être réservés : {inbox}")]
    return []


def _check_writable(folder: Path, label: str) -> list[Problem]:
    """`folder` is a writable folder, or can be created: its nearest existing parent is one."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return [Problem(ProblemKind.ACCESS, f"Dossier {label} impossible à créer : {existing} n'est pas un "
                                            f"dossier ({folder})")]
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "en lecture seule (droits)" if existing == folder else f"impossible à créer ({existing} en lecture seule)"
        return [Problem(ProblemKind.ACCESS, f"Dossier {label} {what} : {folder}")]
    return []


def check(inbox: Path, out: Path, archive: Path | None, settings: Settings) -> list[Problem]:
    """Every problem that would stop a run of `inbox` into `out` (and `archive`); empty: go.

    Looks only: runs `tesseract --version` / `--list-langs`, creates no folder.
    """
    problems: list[Problem] = []
    try:
        engine = engine_for(settings)
    except KeyError:
        return [Problem(ProblemKind.DEPENDENCY, f"Moteur OCR inconnu : INTAKE_OCR_ENGINE={settings.ocr_engine}")]
    command = getattr(engine, "command", None)
    if command is not None:  # an engine that starts a program: that program and its language data
        languages = "+".join(filter(None, (settings.ocr_languages, settings.ocr_languages_second,
                                           settings.care_sheet_ocr_languages)))  # every reading's
        problems += _check_tesseract(command, languages)
    problems += _check_poppler()
    problems += _check_inbox(inbox)
    problems += _check_writable(out, "de sortie")
    if archive is not None:
        problems += _check_writable(archive, "d'archive")
    if settings.ocr_cache_dir is not None:
        problems += _check_writable(Path(settings.ocr_cache_dir), "du cache OCR")
    return problems

"""`intake` console script: run the pipeline, purge the OCR cache, evaluate a run.

Every outcome of `intake run` and `intake purge` is one `ExitCode` (in the manner of OCRmyPDF's),
listed in `intake run --help` and docs/operations.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from core.errors import ExitCode
from flows import prefect_env


EXIT_CODES_HELP = """\
codes de sortie :
    0   tous les dossiers prêts ont été décidés (purge : terminée)
    2   arguments ou réglages INTAKE_* invalides
    3   dépendance manquante (tesseract, ses données de langue, poppler) : rien n'a été touché
    5   boîte de réception illisible, dossier de sortie ou d'archive impossible à écrire : rien n'a été touché
    7   panne de l'infrastructure en cours de run (OCR tué, disque plein…) : les dossiers non décidés sont
        remis dans la boîte de réception ; relancer une fois la panne réparée
    15  autre erreur (détails dans les journaux du run Prefect)
    130 interrompu (Ctrl-C)
"""


def _fail(code: ExitCode, *lines: str) -> int:
    for line in lines:
        print(f"intake: {line}", file=sys.stderr)
    return int(code)


def _settings(**overrides: object):
    from core.settings import Settings

    return Settings.from_env(**overrides)


def _bad_settings(exc: ValidationError) -> int:
    fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
    return _fail(ExitCode.BAD_ARGS, f"réglage invalide : {fields} (option ou variable INTAKE_<NOM>)")


def _purge_message(purged, days: float) -> str:
    return (f"cache OCR : {purged.entries} entrée(s) de plus de {days:g} jour(s) supprimée(s), "
            f"{purged.bytes} octets libérés")


def _purge_after_run(out: Path, settings) -> None:
    from flows.retention import ocr_cache_dir, purge_ocr_cache

    if not settings.purge_on_run:
        return
    try:
        purged = purge_ocr_cache(ocr_cache_dir(out, settings), settings.ocr_cache_retention_days)
    except OSError as exc:  # the run's own outcome decides the exit code; say it and go on
        print(f"intake: purge du cache OCR impossible ({exc.__class__.__name__})", file=sys.stderr)
        return
    if purged.entries:
        print(_purge_message(purged, settings.ocr_cache_retention_days))


def _run(args: argparse.Namespace) -> int:
    from flows import preflight
    from core.errors import InfrastructureError, IntakeError

    try:
        settings = _settings(workers=args.workers, render_dpi=args.dpi,
                             csv_dialects=tuple(args.csv_dialects) if args.csv_dialects else None)
    except ValidationError as exc:
        return _bad_settings(exc)
    inbox, out = Path(args.inbox).resolve(), Path(args.out).resolve()
    archive = Path(args.archive).resolve() if args.archive else None

    problems = preflight.check(inbox, out, archive, settings)  # before Prefect, before any folder is touched
    if problems:
        code = (ExitCode.MISSING_DEPENDENCY if any(p.kind is preflight.ProblemKind.DEPENDENCY for p in problems)
                else ExitCode.FILE_ACCESS)
        return _fail(code, *(p.message_fr for p in problems), "rien n'a été modifié (aucun dossier réservé ni déplacé).")

    prefect_env.configure()
    from flows.inbox import run_inbox  # imports Prefect: after configure()

    try:
        summaries = run_inbox(inbox, out, settings, archive=archive)
    except InfrastructureError as exc:
        return _fail(ExitCode.INFRASTRUCTURE, f"panne de l'infrastructure : {exc}",
                     "les dossiers non décidés sont remis dans la boîte de réception ; relancez une fois réparé.")
    except IntakeError as exc:
        return _fail(ExitCode.OTHER, f"le run a échoué : {exc}")
    except Exception as exc:  # noqa: BLE001 - the class only: a message may carry a client's file name
        return _fail(ExitCode.OTHER, f"le run a échoué ({exc.__class__.__name__}) : détails dans les journaux "
                                     "du run Prefect.")
    finally:
        _purge_after_run(out, settings)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["decision"]] = counts.get(s["decision"], 0) + 1
    print(f"{len(summaries)} dossier(s): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"CSV: {out / 'dossiers.csv'}")
    print(f"CSV: {out / 'documents.csv'}")
    return int(ExitCode.OK)


def _purge(args: argparse.Namespace) -> int:
    from flows.retention import ocr_cache_dir, purge_ocr_cache

    try:
        settings = _settings()
    except ValidationError as exc:
        return _bad_settings(exc)
    out = Path(args.out).resolve()
    if not out.is_dir():
        return _fail(ExitCode.FILE_ACCESS, f"dossier de sortie introuvable : {out}")
    days = settings.ocr_cache_retention_days if args.older_than is None else args.older_than
    try:
        purged = purge_ocr_cache(ocr_cache_dir(out, settings), days)
    except OSError as exc:
        return _fail(ExitCode.FILE_ACCESS, f"cache OCR illisible ({exc.__class__.__name__}) : {ocr_cache_dir(out, settings)}")
    print(_purge_message(purged, days))
    return int(ExitCode.OK)


def _days(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def parser() -> argparse.ArgumentParser:
    """The `intake` command line (report, eval and eval-real have their own, handed the rest of argv)."""
    top = argparse.ArgumentParser(prog="intake", description="Claims intake: read, check and route dossiers.",
                                  epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="decide every ready dossier of an inbox, write the CSVs",
                         epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("inbox", help="inbox folder: one sub-folder per dossier")
    run.add_argument("--out", required=True, help="output folder for dossiers.csv and documents.csv")
    run.add_argument("--archive", default=None,
                     help="move each decided dossier to ARCHIVE/<decision>/<folder> (default: leave it in the inbox)")
    run.add_argument("--workers", type=int, default=None, help="dossiers in parallel (default: cores)")
    run.add_argument("--dpi", type=int, default=None, help="PDF rendering resolution")
    run.add_argument("--csv-dialect", action="append", choices=["excel-fr"], default=None, dest="csv_dialects",
                     help="also write the CSVs in this dialect (excel-fr: ';', decimal comma, UTF-8 with BOM)")
    purge = sub.add_parser("purge", help="delete the OCR cache entries (personal data) older than the retention",
                           epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    purge.add_argument("out", help="output folder of a run (its cache: OUT/.cache/ocr, or INTAKE_OCR_CACHE_DIR)")
    purge.add_argument("--older-than", type=_days, default=None, metavar="DAYS",
                       help="age in days (default: INTAKE_OCR_CACHE_RETENTION_DAYS, 30)")
    sub.add_parser("report", help="one HTML page of a run's results for analysts (see `intake report --help`)")
    sub.add_parser("eval", help="compare a run with a truth folder (see `intake eval --help`)")
    sub.add_parser("eval-real", help="measure the invoice reader on the real invoices")
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "eval":
            from evaluation.evaluate import main as eval_main
            return eval_main(argv[1:])
        if argv and argv[0] == "eval-real":
            from evaluation.real_invoices import main as real_main
            return real_main(argv[1:])
        if argv and argv[0] == "report":
            from results.report import report_main
            return report_main(argv[1:])
        args = parser().parse_args(argv)  # bad arguments: argparse exits 2 (ExitCode.BAD_ARGS)
        return _purge(args) if args.command == "purge" else _run(args)
    except KeyboardInterrupt:
        print("intake: interrompu", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - never a bare traceback's exit 1, which is not ours
        return _fail(ExitCode.OTHER, f"erreur inattendue ({exc.__class__.__name__})")


if __name__ == "__main__":
    raise SystemExit(main())

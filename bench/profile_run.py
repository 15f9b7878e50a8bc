"""Where a run's time goes: wall and CPU per pipeline stage, without Prefect and through the flow.

    .venv/bin/python bench/profile_run.py                          # sample_docs/inbox (20 dossiers)
    .venv/bin/python bench/profile_run.py --inbox DIR --engine tesserocr
    .venv/bin/python bench/profile_run.py --no-prefect             # the pipeline only

The inbox is copied (the flow claims and archives folders). Pass 1 runs `process_dossier` over every
dossier on `--workers` threads, as the flow's task runner does, then saves each result and rebuilds the
CSVs; pass 2 runs `flows.inbox.run_inbox` over a fresh copy in a child process (fresh OCR cache both
times), and the difference is Prefect's: its server's start (timed inside `SubprocessASGIServer.start`),
then the rest spread over the tasks.

Stages are timed by wrapping the functions listed in STAGES (in their modules and wherever they were
imported), not by cProfile: cProfile sees one thread, and the pages run in a pool. Each stage is charged
its own time only (a stage called inside another pauses the outer one), per thread: wall is summed over
threads (it can exceed the run's wall with several workers), CPU is `time.thread_time` of the thread
plus the CPU of the child processes it waited for (tesseract commands), read with `os.wait4`; the text
layer's children (forked by the fork server, not ours) report their own. "other" is what no listed stage covers: Python glue, the GIL, idle workers.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SAMPLE = REPO / "sample_docs" / "inbox"
ROOTS = ("core", "extractors", "validators", "pipeline", "inbox", "results", "flows", "intake")

# (module, function or Class.method, stage), in the order the issue lists the stages
STAGES = [
    ("extractors.pages.load", "load_file", "load"),
    ("extractors.pages.image_load", "load_image", "load"),
    ("extractors.pages.pdf_load", "check_pdf", "load"),
    ("extractors.pages.pdf_text", "raw_words", "load: PDF text layer"),
    ("extractors.pages.pdf_load", "render_page", "render"),
    ("extractors.pages.normalise", "normalise_page", "normalise"),
    ("extractors.pages.pieces", "split_long_page", "normalise"),
    ("extractors.pages.sheet", "find_sheet", "sheet finder"),
    ("extractors.pages.sheet", "warp_sheet", "sheet finder"),
    ("extractors.pages.readability", "score_readability", "readability"),
    ("extractors.pages.readability", "judge", "readability"),
    ("extractors.pages.normalise", "ocr_ready", "OCR preparation"),
    ("extractors.pages.normalise", "erase_rules", "OCR preparation"),
    ("extractors.pages.normalise", "lift_inverted", "OCR preparation"),
    ("extractors.pages.ocr", "Tesseract.read", "OCR engine, our side"),
    ("extractors.pages.ocr", "Tesseract.orientation", "OCR engine, our side"),
    ("extractors.pages.ocr", "Tesseract._tsv", "Tesseract"),
    ("extractors.pages.ocr", "TesserOcr._tsv", "Tesseract"),
    ("extractors.pages.ocr", "Tesseract._osd", "Tesseract: orientation"),
    ("extractors.pages.ocr", "TesserOcr._osd", "Tesseract: orientation"),
    ("extractors.care_sheet.read", "looks_like_care_sheet", "form registration, zone checks"),
    ("extractors.care_sheet.read", "read_care_sheet", "form registration, zone checks"),
    ("extractors.care_sheet.form", "register", "form registration, zone checks"),
    ("extractors.care_sheet.form", "register_cached", "form registration, zone checks"),
    ("pipeline.page", "spot_form", "form registration, zone checks"),
    ("extractors.documents.classify", "classify_text", "classify"),
    ("extractors.documents.classify", "group_pages", "classify"),
    ("extractors.invoice.fields", "read_invoice", "invoice reading"),
    ("extractors.invoice.small_print", "reread_siret", "SIRET second look"),
    ("validators.rules", "evaluate", "rules, decision"),
    ("validators.rules", "decide", "rules, decision"),
    ("pipeline.document", "write_thumbnail", "artifacts, thumbnails"),
    ("extractors.care_sheet.crops", "write_crops", "artifacts, thumbnails"),
    ("flows.artifacts", "dossier_markdown", "Prefect artifacts"),
    ("flows.artifacts", "publish_dossier", "Prefect artifacts"),
    ("flows.artifacts", "publish_run", "Prefect artifacts"),
    ("results.store", "save_result", "results, CSVs"),
    ("results.store", "write_csvs", "results, CSVs"),
    ("pipeline.dossier", "process_dossier", "pipeline glue"),
    ("pipeline.page", "read_page", "pipeline glue"),
    ("pipeline.document", "build_document", "pipeline glue"),
    ("prefect.server.api.server", "SubprocessASGIServer.start", "Prefect server start"),
]


class Stages:
    """Exclusive wall and CPU per stage, per thread (see the module docstring)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.child_cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def _stack(self) -> list:
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack

    def _charge(self, frame: list, wall: float, cpu: float) -> None:
        with self.lock:
            self.wall[frame[0]] += wall - frame[1]
            self.cpu[frame[0]] += cpu - frame[2]

    def wrap(self, stage: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            stack = self._stack()
            w, c = time.perf_counter(), time.thread_time()
            if stack:
                self._charge(stack[-1], w, c)
            stack.append([stage, w, c])
            try:
                return fn(*args, **kwargs)
            finally:
                w, c = time.perf_counter(), time.thread_time()
                self._charge(stack.pop(), w, c)
                with self.lock:
                    self.calls[stage] += 1
                if stack:
                    stack[-1][1], stack[-1][2] = w, c
        timed.__profiled__ = True
        return timed

    def child(self, seconds: float) -> None:
        """CPU of a child process this thread just waited for, charged to the thread's current stage."""
        stack = self._stack()
        with self.lock:
            self.child_cpu[stack[-1][0] if stack else "child processes, no stage"] += seconds

    def install(self) -> None:
        originals: dict[int, object] = {}
        for module_name, attr, stage in STAGES:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            owner, name = module, attr
            if "." in attr:
                cls, name = attr.split(".")
                owner = getattr(module, cls, None)
            fn = owner.__dict__.get(name) if owner is not None and hasattr(owner, "__dict__") else None
            if fn is None or getattr(fn, "__profiled__", False):
                continue
            wrapped = self.wrap(stage, fn)
            setattr(owner, name, wrapped)
            originals[id(fn)] = wrapped
        for mod_name, mod in list(sys.modules.items()):  # where `from x import f` bound the original
            if mod is None or not mod_name.split(".")[0] in ROOTS:
                continue
            for key, value in list(vars(mod).items()):
                if id(value) in originals:
                    setattr(mod, key, originals[id(value)])
        real_waitpid = os.waitpid

        def waitpid(pid, options):  # subprocess waits here: read the child's CPU as it is reaped
            if pid <= 0:
                return real_waitpid(pid, options)
            got, status, usage = os.wait4(pid, options)
            if got:
                self.child(usage.ru_utime + usage.ru_stime)
            return got, status
        os.waitpid = waitpid

    def table(self) -> dict:
        stages = list(dict.fromkeys(s for _, _, s in STAGES)) + ["child processes, no stage"]
        return {s: {"calls": self.calls.get(s, 0), "wall": self.wall.get(s, 0.0),
                    "cpu": self.cpu.get(s, 0.0) + self.child_cpu.get(s, 0.0)} for s in stages}


def process_cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def ready(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if (p / "manifest.json").is_file())


def plain_run(inbox: Path, out: Path, settings, stages: Stages) -> dict:
    """process_dossier over every dossier on settings.workers threads, then results and CSVs."""
    from pipeline.dossier import process_dossier
    from results.store import save_result, write_csvs

    def one(folder: Path):
        result = process_dossier(folder, settings, artifacts_root=out / "artifacts", cache_dir=out / ".cache" / "ocr")
        save_result(out, result)
        return result

    w0, c0 = time.perf_counter(), process_cpu()
    with ThreadPoolExecutor(settings.workers) as pool:
        results = list(pool.map(one, ready(inbox)))
    write_csvs(out)
    return {"wall": time.perf_counter() - w0, "cpu": process_cpu() - c0, "dossiers": len(results),
            "decisions": {r.dossier_id: str(r.decision) for r in results}, "stages": stages.table()}


def prefect_run(inbox: Path, out: Path, settings, stages: Stages) -> dict:
    from flows import prefect_env

    prefect_env.configure()
    from flows.inbox import run_inbox
    stages.install()  # again: Prefect's modules are loaded now
    w0, c0 = time.perf_counter(), process_cpu()
    summaries = run_inbox(inbox, out, settings)
    return {"wall": time.perf_counter() - w0, "cpu": process_cpu() - c0, "dossiers": len(summaries),
            "stages": stages.table()}


def inner(args) -> int:
    """One pass in this process, its figures as JSON on stdout's last line."""
    from core.settings import Settings

    settings = Settings(workers=args.workers, ocr_engine=args.engine)
    stages = Stages()
    import pipeline.dossier  # noqa: F401  (everything the stages name, loaded before wrapping)
    import results.store  # noqa: F401
    stages.install()
    run = prefect_run if args.inner == "prefect" else plain_run
    figures = run(Path(args.inbox), Path(args.out), settings, stages)
    from extractors.pages import pdf_text
    forked = pdf_text.CHILD_CPU[0]  # the text layer's children are the fork server's: they report their CPU
    figures["stages"]["load: PDF text layer"]["cpu"] += forked
    figures["cpu"] += forked
    figures["cpu_with_children"] = forked  # the parent adds what it measured
    print(json.dumps(figures))
    return 0


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_pass(kind: str, inbox: Path, tmp: Path, args, label: str = "") -> dict:
    """Pass `kind` (plain, prefect) over a copy of `inbox` in a child process: its figures."""
    copy, out = tmp / f"{label or kind}-inbox", tmp / f"{label or kind}-out"
    shutil.copytree(inbox, copy)
    c0 = process_cpu()
    done = subprocess.run([sys.executable, __file__, "--inner", kind, "--inbox", str(copy), "--out", str(out),
                           "--workers", str(args.workers), "--engine", args.engine],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"{kind} pass failed")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["cpu_with_children"] += process_cpu() - c0  # the child and all it waited for (server, tesseracts)
    return figures


def print_profile(title: str, f: dict) -> None:
    """The stages of one pass; "other" is the run's CPU no stage took, "start-up" the child's imports (and,
    through Prefect, its server's process, reaped at exit)."""
    startup = max(0.0, f["cpu_with_children"] - f["cpu"])
    print(f"\n== {title}: {f['dossiers']} dossiers, wall {f['wall']:.1f} s, CPU {f['cpu']:.1f} s "
          f"(+ {startup:.1f} s start-up and exit) ==")
    print(f"{'stage':<32} {'calls':>6} {'wall s':>8} {'CPU s':>8} {'CPU %':>6}")
    attributed = sum(s["cpu"] for s in f["stages"].values())
    rows = [(name, s["calls"], s["wall"], s["cpu"]) for name, s in f["stages"].items()]
    rows.append(("other (no stage: glue, GC, ...)", 0, 0.0, max(0.0, f["cpu"] - attributed)))
    for name, calls, wall, cpu in rows:
        if calls or cpu > 0.05:
            print(f"{name:<32} {calls:>6} {wall:8.1f} {cpu:8.1f} {100 * cpu / f['cpu']:5.1f}%")
    print(f"{'process start-up and exit':<32} {'':>6} {'':>8} {startup:8.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, default=SAMPLE)
    ap.add_argument("--workers", type=int, default=2)
    from core.settings import Settings

    ap.add_argument("--engine", default=Settings().ocr_engine, help="Settings.ocr_engine (tesseract: the command)")
    ap.add_argument("--no-prefect", action="store_true", help="skip the pass through the flow")
    ap.add_argument("--inner", choices=["plain", "prefect"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inner:
        return inner(args)
    print(f"inbox {args.inbox} ({len(ready(args.inbox))} dossiers), engine {args.engine}, {args.workers} workers, "
          f"{os.cpu_count()} cores, load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="profile-run-") as tmp:
        plain = one_pass("plain", args.inbox, Path(tmp), args)
        print_profile("process_dossier, no Prefect", plain)
        if not args.no_prefect:
            flow = one_pass("prefect", args.inbox, Path(tmp), args)
            print_profile("flows.inbox.run_inbox", flow)
            start = flow["stages"]["Prefect server start"]["wall"]
            rest = flow["wall"] - start - plain["wall"]
            print(f"\nPrefect: server start {start:.1f} s wall; the rest of the flow {rest:+.1f} s wall "
                  f"({rest / max(1, flow['dossiers']):+.2f} s per task); CPU {flow['cpu'] - plain['cpu']:+.1f} s "
                  f"in the run, {flow['cpu_with_children'] - plain['cpu_with_children']:+.1f} s with start-up, "
                  f"exit and the server's process")
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A lone 3-page dossier, timed: `intake run` end to end, its split, and `process_dossier` warm (issue 20).

    .venv/bin/python bench/lone_dossier.py [--runs 3] [--scan-dpi 300] [--seed 2017] [--keep DIR]

The dossier (one, built with the project's own generator, `sample_docs/gen`, the way
`gen.dossier.build` builds one, but with its documents and captures chosen here instead of drawn):

  f1  care sheet, a flatbed scan (`gen.capture.scan`) at --scan-dpi (300 by default, the top of the
      `full` profile's 150/200/300), grey, packed as an image-only PDF (`gen.files.images_pdf`), as
      scanners send it; 1 page
  f2  the vet's invoice, a phone photo (`gen.capture.photo`), long side drawn in the `full` profile's
      2000-3000 px, JPEG; 1 page
  f3  the prescription as the clinic's text PDF (`gen.layouts_other.prescription`); 1 page

with the care sheet copying the invoice's fees (as `build` does) and the portal's manifest. The
expected decision is `accept` (nothing missing).

Timed N times (--runs), each over a fresh copy of the dossier in a fresh temporary inbox and output
folder (so a fresh OCR cache each time), side by side:

  a. `intake run INBOX --out OUT` as a user runs it (a subprocess of `.venv/bin/intake`): wall, and CPU
     of it and all its children (the Prefect server, the dossier's child, tesseract), from
     `os.wait4`;
  b. the split of (a), from outside: the CLI is started with `python -X importtime` and stderr
     captured; each stderr line gets the time it was read (`time.perf_counter`, from the spawn). Marks:
     - "imports" = the first line of Prefect's own logging (the flow run's creation) minus the time
       spent starting the server: the process's start and its imports up to `run_inbox`'s first API
       call; `-X importtime`'s cumulative figures name the heaviest top-level imports;
     - "Prefect server start" = the ephemeral server's start, read from its own "Starting temporary
       server" / first flow-run line;
     - "flow start" = from the flow run's creation to the first line of the dossier's task;
     - "dossier" = from the task's start to its "dossier ...: accept" line (the decision, with the
       child's fork, warm-up being done in the parent before);
     - "end" = from the decision to the process's exit (CSVs, exports, report, artifacts, the flow's
       end, the server's stop).
     `-X importtime` itself slows imports a little (it prints ~one line per module); the runs of (a)
     are therefore done without it, the split on separate runs with it.
  c. in one warm process (this one): `pipeline.dossier.warm_up()` and the OCR engine's first call done
     once beforehand, then `process_dossier` on a fresh copy, with `bench/profile_run.py`'s `Stages`
     (imported, not copied): wall, CPU (with the tesseract children) and the per-stage split, plus the
     cost of each file (the time spent inside `pipeline.dossier.read_file` for it).

Machine load (`os.getloadavg`) is printed before and after: the machine has 2 cores shared.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "sample_docs"))
VENV_BIN = Path(sys.executable).parent
DOSSIER_ID = "D-2017-090001"


def make_dossier(inbox: Path, seed: int, scan_dpi: int) -> dict:
    """Write inbox/DOSSIER_ID/ (3 files, then manifest.json) with the generator; returns a description."""
    from gen.care_sheet import CareSheetSpec
    from gen.common import rng_for
    from gen.consistency import Breaks
    from gen.data import make_case
    from gen.dossier import Job, _file_bytes, _fill
    from gen.packaging import manifest, submitted_at
    from gen.render import PROFILES, Profile, render_doc
    from gen.scenario import DocPlan, DossierPlan, Features, FilePlan

    full = PROFILES["full"]
    profile = Profile((scan_dpi,), (1.0,), full.photo_sides, full.jpeg_quality, full.noise, full.png_colours)
    job = Job(seed, 0, DOSSIER_ID, str(inbox), "full")
    rng = rng_for(seed, "lone", 0)
    case = make_case(rng)
    plan = DossierPlan(Features(), "mixed")
    plan.docs = {"care_sheet": DocPlan("care_sheet", "scan", CareSheetSpec(), scan_mode="grey"),
                 "vet_invoice": DocPlan("vet_invoice", "photo"),
                 "prescription": DocPlan("prescription", "text_pdf")}
    plan.files = [FilePlan(["care_sheet"], "pdf", "care_sheet", name="scan0412.pdf"),
                  FilePlan(["vet_invoice"], "jpeg", "invoice", orientation="upright", name="IMG_2043.jpg"),
                  FilePlan(["prescription"], "pdf", "other", name="ordonnance.pdf")]
    rendered = {}
    for k in ("vet_invoice", "care_sheet", "prescription"):  # the sheet copies the invoice's fees
        fill = _fill(job, case, Breaks(), rng_for(seed, "lone", "fill"), rendered.get("vet_invoice")) \
            if k == "care_sheet" else None
        rendered[k] = render_doc(k, plan.docs[k], case, rng_for(seed, "lone", k), profile, fill)
    folder = inbox / DOSSIER_ID
    folder.mkdir(parents=True)
    about = {}
    for f in plan.files:
        data, _counts, _defects = _file_bytes(f, plan, rendered, rng, profile)
        (folder / f.name).write_bytes(data)
        key = f.docs[0]
        pages = rendered[key].pages
        size = f"{pages[0][0].width}x{pages[0][0].height} px" if pages else "text"
        about[key] = f"{plan.docs[key].capture}, {f.fmt}, {size}, {len(data) // 1024} KiB"
    m = manifest(DOSSIER_ID, submitted_at(case.visit_date, rng), case.contract_number, case.animal_name,
                 case.description, plan.files, rng)
    (folder / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return about


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_cli(dossier: Path, tmp: Path, label: str, importtime: bool) -> dict:
    """`intake run` on a fresh inbox holding a copy of the dossier: wall, CPU with children, stderr lines
    with the time each was read (seconds from the spawn)."""
    inbox, out = tmp / f"{label}-inbox", tmp / f"{label}-out"
    shutil.copytree(dossier, inbox / dossier.name)
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + \
        [str(VENV_BIN / "intake"), "run", str(inbox), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, bufsize=1)
    lines = [(time.perf_counter() - t0, line.rstrip("\n")) for line in proc.stdout]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write("\n".join(line for _, line in lines[-40:]) + "\n")
        raise SystemExit(f"intake run exited {proc.returncode}")
    decided = [line for _, line in lines if re.search(r"dossier \S+: (accept|request_documents|illegible)", line)]
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "lines": lines,
            "decision": decided[-1].split(": ", 1)[-1].split()[0] if decided else "?"}


def first(lines: list[tuple[float, str]], pattern: str) -> float | None:
    rx = re.compile(pattern)
    return next((t for t, line in lines if rx.search(line)), None)


def split(run: dict) -> dict:
    """The marks of one `-X importtime` run (see the module docstring)."""
    lines = run["lines"]
    prefect_lines = [(t, line) for t, line in lines if not line.startswith("import time:")]
    t_last_import = max((t for t, line in lines if line.startswith("import time:")), default=0.0)
    t_server = first(prefect_lines, r"[Ss]tarting temporary server|ephemeral|temporary Prefect server")
    t_flow = first(prefect_lines, r"Created flow run|Beginning flow run|flow run '")
    t_task = first(prefect_lines, r"Created task run|dossier-|Task run|inbox: \d+ dossier")
    t_decided = first(prefect_lines, r"dossier \S+: (accept|request_documents|illegible)")
    marks = {"last import line": t_last_import, "server start line": t_server, "flow run line": t_flow,
             "first task line": t_task, "decision line": t_decided, "exit": run["wall"]}
    return marks


def top_imports(lines: list[tuple[float, str]], n: int = 8) -> list[tuple[str, float]]:
    """Top-level imports by cumulative time (`-X importtime`: 'import time: self | cumulative | name')."""
    tops = []
    for _, line in lines:
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:
            tops.append((m.group(4), int(m.group(2)) / 1e6))
    return sorted(tops, key=lambda x: -x[1])[:n]


def warm_process(dossier: Path, tmp: Path, runs: int) -> list[dict]:
    """(c): process_dossier on fresh copies in this process, warmed as the flow's parent is."""
    from profile_run import Stages, process_cpu  # bench/profile_run.py: reused, not copied

    from core.settings import Settings
    import pipeline.dossier as pd
    import results.store  # noqa: F401

    settings = Settings()
    t0, c0 = time.perf_counter(), process_cpu()
    pd.warm_up()
    warm = {"warm_up wall": time.perf_counter() - t0, "warm_up cpu": process_cpu() - c0}
    # the OCR engine's first call (model files into the page cache, the engine's own set-up) off the clock
    scratch = tmp / "warm-scratch"
    shutil.copytree(dossier, scratch / dossier.name)
    pd.process_dossier(scratch / dossier.name, settings, artifacts_root=tmp / "warm-art0", cache_dir=tmp / "warm-cache0")
    out = []
    for i in range(runs):
        stages = Stages()
        stages.install()
        per_file: dict[str, list[float]] = {}
        real_read_file = pd.read_file

        def read_file(ctx, n, entry, _real=real_read_file):
            w, c = time.perf_counter(), process_cpu()
            try:
                return _real(ctx, n, entry)
            finally:
                per_file[f"f{n} ({entry.slot})"] = [time.perf_counter() - w, process_cpu() - c]
        pd.read_file = read_file
        copy = tmp / f"warm-{i}"
        shutil.copytree(dossier, copy / dossier.name)
        w0, c0 = time.perf_counter(), process_cpu()
        result = pd.process_dossier(copy / dossier.name, settings, artifacts_root=tmp / f"warm-art{i + 1}",
                                    cache_dir=tmp / f"warm-cache{i + 1}")
        wall, cpu = time.perf_counter() - w0, process_cpu() - c0
        pd.read_file = real_read_file
        from extractors.pages import pdf_text
        out.append({"wall": wall, "cpu": cpu, "decision": str(result.decision), "stages": stages.table(),
                    "files": per_file, "text_layer_child_cpu": pdf_text.CHILD_CPU[0], **warm})
        uninstall(stages)
    return out


def uninstall(stages) -> None:
    """Undo Stages.install's wrappers (it has no undo): unwrap every function marked __profiled__."""
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or mod_name.split(".")[0] not in ("core", "extractors", "validators", "pipeline", "inbox",
                                                          "results", "flows", "intake"):
            continue
        for key, value in list(vars(mod).items()):
            if getattr(value, "__profiled__", False):
                setattr(mod, key, value.__wrapped__)
            elif isinstance(value, type):
                for k, v in list(vars(value).items()):
                    if getattr(v, "__profiled__", False):
                        setattr(value, k, v.__wrapped__)


def fmt(runs: list[dict], key: str) -> str:
    return ", ".join(f"{r[key]:.2f}" for r in runs)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument("--scan-dpi", type=int, default=300)
    ap.add_argument("--keep", type=Path, help="also copy the dossier here")
    ap.add_argument("--skip-cli", action="store_true", help="only (c)")
    args = ap.parse_args(argv)
    print(f"{os.cpu_count()} cores, load average {load_average()} (at the start)")
    with tempfile.TemporaryDirectory(prefix="lone-dossier-") as t:
        tmp = Path(t)
        about = make_dossier(tmp / "made", args.seed, args.scan_dpi)
        dossier = tmp / "made" / DOSSIER_ID
        if args.keep:
            shutil.copytree(dossier, args.keep / DOSSIER_ID, dirs_exist_ok=True)
        for k, v in about.items():
            print(f"  {k:<13} {v}")
        rows = []
        if not args.skip_cli:
            cli = [run_cli(dossier, tmp, f"cli{i}", importtime=False) for i in range(args.runs)]
            print(f"\n(a) intake run, {args.runs} runs: wall {fmt(cli, 'wall')} s; "
                  f"CPU with children {fmt(cli, 'cpu')} s; decision {cli[0]['decision']}"
                  f"  [load {load_average()}]")
            rows.append(("intake run (subprocess)", med([r["wall"] for r in cli]), med([r["cpu"] for r in cli])))
            timed = [run_cli(dossier, tmp, f"imp{i}", importtime=True) for i in range(args.runs)]
            marks = [split(r) for r in timed]
            print(f"\n(b) the split, {args.runs} runs with -X importtime (wall "
                  f"{fmt(timed, 'wall')} s), marks in s from the spawn (median):")
            for key in marks[0]:
                vals = [m[key] for m in marks if m[key] is not None]
                print(f"  {key:<20} {med(vals):6.2f}" if vals else f"  {key:<20}   (not seen)")
            print("  heaviest top-level imports (cumulative s, first run):")
            for name, s in top_imports(timed[0]["lines"]):
                print(f"    {name:<40} {s:5.2f}")
            print("  the Prefect lines of the first run (t from the spawn):")
            for ts, line in timed[0]["lines"]:
                if not line.startswith("import time:"):
                    print(f"    {ts:6.2f}  {line[:150]}")
        warm = warm_process(dossier, tmp, args.runs)
        w0 = warm[0]
        print(f"\n(c) process_dossier, warm process ({w0['warm_up wall']:.2f} s wall / {w0['warm_up cpu']:.2f} s CPU "
              f"of warm_up() beforehand, and one untimed dossier): wall {fmt(warm, 'wall')} s,"
              f" CPU {fmt(warm, 'cpu')} s; decision {w0['decision']}  [load {load_average()}]")
        rows.append(("process_dossier (warm)", med([r["wall"] for r in warm]), med([r["cpu"] for r in warm])))
        print(f"  {'stage':<32} {'calls':>5} {'wall s':>7} {'CPU s':>7}   (median of {args.runs})")
        for name in w0["stages"]:
            walls = [r["stages"][name]["wall"] for r in warm]
            cpus = [r["stages"][name]["cpu"] for r in warm]
            if w0["stages"][name]["calls"] or med(cpus) > 0.01:
                print(f"  {name:<32} {w0['stages'][name]['calls']:>5} {med(walls):7.2f} {med(cpus):7.2f}")
        print("  per file (inside read_file):")
        for f in w0["files"]:
            print(f"    {f:<20} wall {med([r['files'][f][0] for r in warm]):5.2f} s, "
                  f"CPU {med([r['files'][f][1] for r in warm]):5.2f} s")
    print(f"\n{'':<28} {'wall s':>7} {'CPU s':>7}   (median of {args.runs}, {os.cpu_count()} cores)")
    for name, wall, cpu in rows:
        print(f"{name:<28} {wall:7.2f} {cpu:7.2f}")
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

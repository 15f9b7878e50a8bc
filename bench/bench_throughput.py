"""End-to-end throughput of the Prefect flow next to raw `tesseract` on the same pages, in the same run.

    .venv/bin/python bench/bench_throughput.py                       # the committed sample inbox, ~3 min
    .venv/bin/python bench/bench_throughput.py --inbox DIR           # any inbox
    .venv/bin/python bench/bench_throughput.py --sizes 50,500        # generated inboxes: how time grows
    .venv/bin/python bench/bench_throughput.py --runners thread,process

Prints, per inbox: pages, raw tesseract pages/min (one process per core, every page
OCRed whole at 200 dpi, `fra+eng`), the flow's pages/min for each task runner
(fresh OCR cache, Prefect's ephemeral server already up), the ratio to raw, and
the peak memory of the flow process and of its largest child (a pool worker or a
tesseract). Each flow run is a fresh subprocess, so the figures do not mix.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SAMPLE = REPO / "sample_docs" / "inbox"


def ready(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if (p / "manifest.json").is_file())


def render_pages(inbox: Path, dest: Path, dpi: int) -> list[Path]:
    """Every page of every uploaded file as an image tesseract can read (untimed)."""
    pages: list[Path] = []
    for folder in ready(inbox):
        for f in sorted(folder.iterdir()):
            if f.name == "manifest.json" or not f.is_file():
                continue
            head = f.read_bytes()[:1024]
            stem = dest / f"{folder.name}_{f.stem}".replace(" ", "_")
            if b"%PDF-" in head:
                done = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(f), str(stem)],
                                      capture_output=True)
                if done.returncode == 0:
                    pages += sorted(dest.glob(f"{stem.name}-*.png"))
            elif head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n":
                target = stem.with_suffix(f.suffix.lower() or ".img")
                shutil.copy(f, target)
                pages.append(target)
    return pages


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (/proc/stat): what every process used, ours
    or not, to tell a run's own CPU use from a shared host's."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            values = [float(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    return sum(values) - idle, sum(values)


def cores_busy(cpu_s: float, wall_s: float, since: tuple[float, float]) -> str:
    """The share of the cores a run kept busy (its CPU over wall x cores), and the whole machine's meanwhile."""
    cores = os.cpu_count() or 1
    busy, total = machine_busy()
    host = (busy - since[0]) / (total - since[1]) if total > since[1] else float("nan")
    return f"cores busy {100 * cpu_s / max(wall_s * cores, 1e-9):3.0f} % (machine, every process: {100 * host:3.0f} %)"


def raw_tesseract(pages: list[Path], workers: int, languages: str = "fra+eng") -> tuple[float, float]:
    """Wall and CPU seconds for plain tesseract over all pages, `workers` processes at a time."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(page: Path) -> None:
        subprocess.run(["tesseract", str(page), "-", "-l", languages, "--psm", "3", "--oem", "1", "tsv"],
                       env=env, capture_output=True)

    t0, c0 = time.perf_counter(), children_cpu()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - t0, children_cpu() - c0


class MemorySampler:
    """Peak RSS of this process and of each kind of descendant (pool worker, tesseract, ...),
    sampled from /proc every 0.2 s. ru_maxrss cannot tell: a forked child inherits the parent's."""

    def __init__(self) -> None:
        import threading
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_mb(pid: str) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _sample(self) -> None:
        me = str(os.getpid())
        parents: dict[str, str] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    parents[d.name] = (d / "stat").read_text().rsplit(")", 1)[1].split()[1]
                except OSError:
                    pass
        for pid in parents:
            p, depth = pid, 0
            while p in parents and p != me and depth < 10:
                p, depth = parents[p], depth + 1
            if p != me:
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                rss = self._rss_mb(pid)
            except OSError:
                continue
            kind = ("self" if pid == me else "prefect server" if "uvicorn" in cmd or " server" in cmd
                    else "tesseract" if "tesseract" in cmd else "python child" if "python" in cmd else "other")
            self.peak[kind] = max(self.peak.get(kind, 0.0), rss)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(inbox: str, out: str, runner: str, workers: int) -> None:
    """Run the flow once in this fresh process and print its figures as JSON."""
    from flows import prefect_env
    prefect_env.configure()
    from prefect import flow
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from flows.inbox import process_inbox
    from core.settings import Settings

    @flow(name="bench-warmup")
    def warmup() -> None:  # starts the ephemeral server outside the timed part
        return None

    w0 = time.perf_counter()
    warmup()
    start_s = time.perf_counter() - w0
    settings = Settings.from_env(workers=workers, ocr_cache_dir=Path(out) / "ocr-cache")
    task_runner = (ProcessPoolTaskRunner(max_workers=workers) if runner == "process"
                   else ThreadPoolTaskRunner(max_workers=workers))
    me = resource.getrusage(resource.RUSAGE_SELF)
    c0 = me.ru_utime + me.ru_stime + children_cpu()
    with MemorySampler() as memory:
        t0 = time.perf_counter()
        summaries = process_inbox.with_options(task_runner=task_runner)(inbox, out, None, settings)
        seconds = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me.ru_utime + me.ru_stime + children_cpu() - c0  # ours and the tesseracts' (the server's: not counted)
    memory.peak["self"] = me.ru_maxrss / 1024
    print("BENCH " + json.dumps({"seconds": seconds, "cpu": cpu, "start_s": start_s, "dossiers": len(summaries),
                                 "peak_mb": memory.peak}))


def run_flow(inbox: Path, runner: str, workers: int, tmp: Path, engine: str = "tesserocr") -> dict:
    out = Path(tempfile.mkdtemp(dir=tmp, prefix=f"out-{runner}-"))
    env = dict(os.environ, PREFECT_HOME=str(tmp / "prefect-home"), PREFECT_LOGGING_LEVEL="WARNING",
               INTAKE_OCR_ENGINE=engine)
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, __file__, "--_child", str(inbox), str(out), runner, str(workers)],
                          env=env, capture_output=True, text=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"flow run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(line[6:])


def generated(n: int, seed: int, tmp: Path) -> Path:
    script = REPO / "sample_docs" / "generate.py"
    dest = tmp / f"gen-{n}"
    subprocess.run([sys.executable, str(script), "--out", str(dest), "--seed", str(seed), "--n", str(n)], check=True,
                   capture_output=True)
    return dest / "inbox"


def bench_inbox(label: str, inbox: Path, runners: list[str], workers: int, dpi: int, tmp: Path,
                engine: str = "tesserocr", raw_languages: tuple[str, ...] = ("fra+eng",), stages: bool = True) -> dict:
    work = tmp / f"pages-{label}"
    work.mkdir()
    pages = render_pages(inbox, work, dpi)
    n = len(ready(inbox))
    print(f"\n== {label}: {n} dossiers, {len(pages)} pages ==")
    row = {"label": label, "dossiers": n, "pages": len(pages)}
    raw: dict[str, float] = {}
    for languages in raw_languages:
        since = machine_busy()
        raw_s, raw_cpu = raw_tesseract(pages, workers, languages)
        row.setdefault("raw_s", raw_s)
        raw[languages] = raw_s
        print(f"raw tesseract -l {languages:<8} ({workers} processes): {raw_s:7.1f} s  CPU {raw_cpu:7.1f} s  "
              f"{60 * len(pages) / raw_s:7.1f} pages/min  {cores_busy(raw_cpu, raw_s, since)}")
    for runner in runners:
        copy = tmp / f"inbox-{label}-{runner}"
        shutil.copytree(inbox, copy)  # the flow moves claimed folders about: never the source
        since = machine_busy()
        r = run_flow(copy, runner, workers, tmp, engine)
        ppm = 60 * len(pages) / r["seconds"]
        peak = r["peak_mb"]
        per_worker = peak.get("python child") if runner == "process" else peak["self"] / workers
        ratios = ", ".join(f"{raw_s / r['seconds']:4.2f} to -l {langs}" for langs, raw_s in raw.items())
        print(f"flow, {runner:7s} runner, {engine}: {r['seconds']:7.1f} s  CPU {r['cpu']:7.1f} s  {ppm:7.1f} pages/min  "
              f"ratio (raw wall / flow wall) {ratios}  {cores_busy(r['cpu'], r['seconds'], since)}  "
              f"Prefect start {r['start_s']:.1f} s (not in the ratio)  peak RSS per worker ~{per_worker or 0:.0f} MB  "
              f"(" + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peak.items())) + " MB)")
        row[runner] = r
    if stages:  # where the flow's time goes: bench/profile_run.py's first pass on the same inbox
        import profile_run

        ns = argparse.Namespace(workers=workers, engine=engine)
        profile_run.print_profile("stages: process_dossier, no Prefect",
                                  profile_run.one_pass("plain", inbox, tmp, ns, f"stages-{label}"))
    return row


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--_child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, default=None, help=f"inbox to measure (default: {SAMPLE})")
    ap.add_argument("--sizes", default="", help="also generated inboxes of these sizes, e.g. 50,500 (slow)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--runners", default="thread", help="thread, process or thread,process")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dpi", type=int, default=200, help="rendering of PDF pages for raw tesseract")
    ap.add_argument("--engine", default="tesserocr", help="Settings.ocr_engine of the flow (tesserocr, tesseract)")
    ap.add_argument("--raw-languages", default="fra+eng,fra", help="raw tesseract's -l, each timed (the first: ratio)")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage profile (bench/profile_run.py)")
    args = ap.parse_args(argv)
    extra = dict(engine=args.engine, raw_languages=tuple(args.raw_languages.split(",")), stages=not args.no_stages)
    runners = [r.strip() for r in args.runners.split(",") if r.strip()]
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at start; workers={args.workers}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as t:
        tmp = Path(t)
        if args.inbox or not args.sizes:
            rows.append(bench_inbox("inbox", args.inbox or SAMPLE, runners, args.workers, args.dpi, tmp, **extra))
        for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
            rows.append(bench_inbox(f"gen{n}", generated(n, args.seed, tmp), runners, args.workers, args.dpi, tmp,
                                    **extra))
    if len(rows) > 1:
        print("\nhow time grows (seconds per dossier; linear = constant):")
        for row in rows:
            cells = "  ".join(f"{r}: {row[r]['seconds'] / row['dossiers']:.2f}" for r in runners)
            print(f"  {row['label']:8s} {row['dossiers']:4d} dossiers  raw {row['raw_s'] / row['dossiers']:.2f}  {cells}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

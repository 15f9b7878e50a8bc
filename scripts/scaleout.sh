#!/usr/bin/env bash
# Scale-out, for real, on one machine: a Prefect server on PostgreSQL, two process workers,
# the deployment of prefect.yaml, two flow runs at once on one inbox. Checks that every dossier
# was processed by exactly one of the two runs, archived once, and written once in the CSVs.
#
#   bash scripts/scaleout.sh [N_DOSSIERS]      # as root, from anywhere; ~3-5 min for 40 dossiers
#
# Everything listens on 127.0.0.1. Leaves PostgreSQL running (pg_ctlcluster 15 main stop to end it);
# stops the Prefect server and the workers it started. Work files under $SCALEOUT_DIR (/tmp/intake-scaleout).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
N=${1:-40}
DIR=${SCALEOUT_DIR:-/tmp/intake-scaleout}
PORT=${SCALEOUT_PORT:-4300}
PREFECT=$REPO/.venv/bin/prefect

# --- 1. PostgreSQL (Debian's), a database for Prefect --------------------------------------
if ! command -v pg_ctlcluster >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PGVER=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$PGVER main" || pg_createcluster "$PGVER" main >/dev/null
pg_ctlcluster "$PGVER" main start 2>/dev/null || true   # already running is fine
for _ in $(seq 30); do su postgres -c "pg_isready -q -h 127.0.0.1" && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='prefect'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE prefect LOGIN PASSWORD 'prefect'\""
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS prefect_scaleout'" >/dev/null
su postgres -c "psql -qc 'CREATE DATABASE prefect_scaleout OWNER prefect'"
echo "postgres $PGVER: database prefect_scaleout on 127.0.0.1:5432"

# --- 2. An inbox, and the environment every Prefect command below shares ------------------
rm -rf "$DIR" && mkdir -p "$DIR"
if [ -f sample_docs/generate.py ]; then
  .venv/bin/python sample_docs/generate.py --out "$DIR/gen" --seed 5 --n "$N" --workers 2 >/dev/null
  mv "$DIR/gen/inbox" "$DIR/inbox"
else
  cp -r sample_docs/inbox "$DIR/inbox"
fi
for v in $(env | grep -o '^PREFECT_[A-Z_]*'); do unset "$v"; done
export PREFECT_HOME=$DIR/prefect-home PREFECT_API_URL=http://127.0.0.1:$PORT/api
export PREFECT_API_DATABASE_CONNECTION_URL="postgresql+asyncpg://prefect:prefect@127.0.0.1:5432/prefect_scaleout"
export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_LOGGING_EXTRA_LOGGERS=intake,extractors,validators
export INTAKE_REPO=$REPO INTAKE_INBOX=$DIR/inbox INTAKE_OUT=$DIR/out INTAKE_ARCHIVE=$DIR/archive INTAKE_WORKERS=1
READY=$(find "$DIR/inbox" -mindepth 2 -maxdepth 2 -name manifest.json | wc -l)
echo "inbox: $READY dossier(s) ready in $DIR/inbox"

PIDS=()
cleanup() {  # the server and workers this script started (their own process groups), TERM then KILL
  for p in "${PIDS[@]}"; do kill -- -"$p" 2>/dev/null || true; done
  sleep 5
  for p in "${PIDS[@]}"; do kill -9 -- -"$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# --- 3. Server, pool, deployment, two workers ---------------------------------------------
setsid "$PREFECT" server start --host 127.0.0.1 --port "$PORT" > "$DIR/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 180); do curl -sf "$PREFECT_API_URL/health" >/dev/null && break; sleep 1; done
"$PREFECT" work-pool create intake --type process --overwrite >/dev/null
"$PREFECT" --no-prompt deploy --name clear-inbox >/dev/null
for w in worker-a worker-b; do
  setsid "$PREFECT" worker start --pool intake --name "$w" --limit 1 > "$DIR/$w.log" 2>&1 &
  PIDS+=($!)
done

# --- 4. Two runs at once ------------------------------------------------------------------
RUNS=()
for _ in 1 2; do
  RUNS+=("$("$PREFECT" deployment run process_inbox/clear-inbox | awk '/UUID/ {print $NF}')")
done
echo "flow runs: ${RUNS[*]}"
T0=$(date +%s)

# --- 5. Wait, then check from the server's own records and from the files ------------------
.venv/bin/python - "$DIR" "${RUNS[@]}" <<'EOF'
import csv, json, sys, time, urllib.request, collections, os
from pathlib import Path
d, runs = Path(sys.argv[1]), sys.argv[2:]
api = os.environ["PREFECT_API_URL"]
def post(path, body):
    req = urllib.request.Request(api + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())
deadline = time.time() + 1800
while True:
    states = {r: post("/flow_runs/filter", {"flow_runs": {"id": {"any_": [r]}}})[0] for r in runs}
    if all(s["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for s in states.values()):
        break
    assert time.time() < deadline, "runs did not finish"
    time.sleep(3)
by_dossier = collections.defaultdict(list)
for r, fr in states.items():
    tasks = post("/task_runs/filter", {"flow_runs": {"id": {"any_": [r]}}, "limit": 200})
    names = sorted(t["name"] for t in tasks if t["state"]["type"] == "COMPLETED")
    worker = next((l["message"] for l in post("/logs/filter", {"logs": {"flow_run_id": {"any_": [r]}}, "limit": 5})
                   if "Worker '" in l["message"]), "")
    print(f"run {fr['name']:24s} {fr['state']['type']:9s} {len(names):3d} dossiers  "
          f"({worker.split(' submitting')[0]})")
    for n in names:
        by_dossier[n].append(fr["name"])
twice = {n: rs for n, rs in by_dossier.items() if len(rs) > 1}
rows = list(csv.DictReader((d / "out" / "dossiers.csv").open(encoding="utf-8")))
archived = collections.Counter(p.name for p in (d / "archive").glob("*/*") if not p.name.startswith("."))
left = [p.name for p in (d / "inbox").iterdir() if (p / "manifest.json").exists()]
print(f"dossiers processed: {len(by_dossier)}, by both runs: {len(twice)}; CSV rows: {len(rows)} "
      f"({len({r['dossier_id'] for r in rows})} distinct); archived: {sum(archived.values())} "
      f"(max {max(archived.values(), default=0)} per folder); ready dossiers left in the inbox: {len(left)}")
ok = (not twice and all(s["state"]["type"] == "COMPLETED" for s in states.values()) and not left
      and len(rows) == len({r["folder"] for r in rows}) == sum(archived.values()) and max(archived.values()) == 1)
print("SCALE-OUT OK" if ok else "SCALE-OUT FAILED")
sys.exit(0 if ok else 1)
EOF
echo "elapsed: $(( $(date +%s) - T0 )) s for $READY dossiers on two workers"

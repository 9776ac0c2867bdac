#!/usr/bin/env bash
# Whole-process benchmarks of `tokens` against the floor (examples/floor.rs) and sqlite3, side by
# side, for docs/PERFORMANCE.md. Needs hyperfine, sqlite3, python3 and GNU time (Debian packages
# hyperfine, sqlite3, python3, time).
#
#   bash benches/compare.sh             # seeds the vaults once under target/bench, then measures
#   ROUNDS=60 bash benches/compare.sh   # more rounds, steadier figures
#   FRESH=1 bash benches/compare.sh     # seeds the vaults again
#
# hyperfine runs all of one command's runs, then the next command's. So that a burst of load from
# elsewhere on the machine cannot land on one side only, every comparison is cut into ROUNDS short
# rounds whose command order alternates; the figures are the medians over every run of every
# round, and the ratio's spread is that of the per-round ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-30}          # rounds of every comparison
RUNS=${RUNS:-20}              # runs per command per round of a single verify
DIR=${BENCH_DIR:-target/bench}
SMALL=100
LARGE=1000000
BATCH=100000

for tool in hyperfine sqlite3 python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing (apt-get install hyperfine sqlite3 python3 time)" >&2; exit 1; }
done

cargo build --release --locked --quiet --bin tokens --example seed --example floor
mkdir -p "$DIR/bin" && chmod 700 "$DIR"
# Measured from copies, as `cargo install` would place them: a binary the linker has just
# written sits in the page cache in small pieces, and starting it takes more page faults
# (about 30 more for tokens, 10 for the floor; 50-100 us here) than starting a copied one.
for binary in tokens examples/floor examples/seed; do
  cp "target/release/$binary" "$DIR/bin/"
done
cd "$DIR"
TOKENS=$PWD/bin/tokens
FLOOR=$PWD/bin/floor
SEED=$PWD/bin/seed

if [ -n "${FRESH:-}" ]; then rm -f small.db* large.db* pristine.db* due.db* log.db* small.txt large.txt; fi
[ -f small.db ] || "$SEED" --vault small.db --count $SMALL --sample 1 >small.txt
[ -f large.db ] || "$SEED" --vault large.db --count $LARGE --sample $BATCH >large.txt
head -1 small.txt >small-token.txt
head -1 large.txt >large-token.txt
# A copy whose tokens were never used, for the runs that must record every last use.
if [ ! -f pristine.db ]; then
  cp large.db pristine.db
  sqlite3 pristine.db "DELETE FROM token_usage"
fi
rm -f ./*-round-*.json

# rounds NAME RUNS-PER-ROUND [hyperfine options] -- COMMAND...: ROUNDS hyperfine calls, the
# commands in turn first; every run's time lands in NAME-round-N.json.
rounds() {
  local name=$1 runs=$2; shift 2
  local options=()
  while [ "$1" != "--" ]; do options+=("$1"); shift; done
  shift
  local commands=("$@") count=$#
  for round in $(seq "$ROUNDS"); do
    local ordered=() first=$((round % count))
    for i in $(seq 0 $((count - 1))); do ordered+=("${commands[$(((first + i) % count))]}"); done
    hyperfine --style none "${options[@]}" --runs "$runs" "${ordered[@]}" \
      --export-json "$name-round-$round.json" >/dev/null
  done
}

echo "== machine"
echo "cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kernel: $(uname -r); $(hyperfine --version); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"

# Each verify records last use at most once a minute per token: the warm-up runs record it,
# so the measured runs are the common case, a token seen within the minute. The token comes from
# a file (--token-file): hyperfine 1.15 can feed stdin only through a shell, whose start-up it
# subtracts with more noise than the whole difference being measured.
rounds single "$RUNS" -N --warmup 5 -- \
  "$FLOOR small.db small-token.txt" \
  "$TOKENS --vault small.db verify --token-file small-token.txt" \
  "$FLOOR large.db large-token.txt" \
  "$TOKENS --vault large.db verify --token-file large-token.txt"

# The rarer case: the token's last use is due, so verify writes it (one short transaction).
ROUNDS=$((ROUNDS / 3)) rounds due 10 -N \
  --prepare "sqlite3 large.db \"DELETE FROM token_usage WHERE token_id = substr('$(cat large-token.txt)', 4, 12)\"" -- \
  "$TOKENS --vault large.db verify --token-file large-token.txt"

ROUNDS=$((ROUNDS / 3)) rounds batch 1 --warmup 1 -- \
  "$FLOOR large.db --batch < large.txt" \
  "$TOKENS --vault large.db verify --batch < large.txt"

# Every token of the batch due for its last use: 100,000 last uses written, side by side with
# the floor's batch (which writes nothing).
ROUNDS=5 rounds batch-due 1 --prepare "cp pristine.db due.db" -- \
  "$FLOOR large.db --batch < large.txt" \
  "$TOKENS --vault due.db verify --batch < large.txt"

COLUMNS_SQL="SELECT id, name, app, scopes, note, secret_tail, created_at, expires_at, (SELECT last_used_at FROM token_usage WHERE token_id = id), revoked_at FROM tokens ORDER BY rowid"
ROUNDS=$((ROUNDS / 3)) rounds list 1 --warmup 1 -- \
  "sqlite3 -json large.db '$COLUMNS_SQL'" \
  "$TOKENS --vault large.db --json list --all"

# A log of 1,000,000 events (made by SQL: a million real commands would take hours), for the
# memory of `tokens log`, which streams.
if [ ! -f log.db ]; then
  cp small.db log.db
  sqlite3 log.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
    INSERT INTO events (at, token_id, kind, detail)
    SELECT 1700000000 + i, (SELECT id FROM tokens LIMIT 1), 'edited', 'change ' || i FROM n"
fi

peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
{
  echo "log $(peak "$TOKENS" --vault log.db log)"
  echo "logjson $(peak "$TOKENS" --vault log.db --json log)"
  echo "verify $(peak "$TOKENS" --vault large.db verify --token-file large-token.txt)"
  echo "floor $(peak "$FLOOR" large.db large-token.txt)"
  echo "batch $(peak sh -c "$TOKENS --vault large.db verify --batch < large.txt")"
  echo "list $(peak "$TOKENS" --vault large.db --json list --all)"
  echo "sqlite3 $(peak sqlite3 -json large.db "$COLUMNS_SQL")"
} >peak-kib.txt
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - <<'EOF'
import glob, json, re, statistics

def load(name):
    """{command: [every run's seconds]}, [{command: that round's median}], and
    {command: [each round's mean CPU seconds, user + system]}."""
    runs, rounds, cpu = {}, [], {}
    files = sorted(glob.glob(f"{name}-round-*.json"), key=lambda f: int(re.findall(r"\d+", f)[-1]))
    for path in files:
        medians = {}
        for result in json.load(open(path))["results"]:
            runs.setdefault(result["command"], []).extend(result["times"])
            medians[result["command"]] = statistics.median(result["times"])
            cpu.setdefault(result["command"], []).append(result["user"] + result["system"])
        rounds.append(medians)
    return runs, rounds, cpu

def pick(runs, *words):
    return next(c for c in runs if all(w in c for w in words))

def compare(name, ours_words, base_words):
    runs, rounds, cpu = load(name)
    ours, base = pick(runs, *ours_words), pick(runs, *base_words)
    o, b = statistics.median(runs[ours]), statistics.median(runs[base])
    per_round = sorted(r[ours] / r[base] for r in rounds)
    q = lambda p: per_round[min(len(per_round) - 1, int(p * len(per_round)))]
    cpu_ratio = statistics.median(cpu[ours]) / statistics.median(cpu[base])
    return o, b, o / b, (q(0.25), q(0.75), cpu_ratio)

ms = lambda s: f"{s * 1000:.2f} ms"
spread = lambda r: f"per-round quartiles {r[0]:.2f}-{r[1]:.2f}, CPU time ratio {r[2]:.2f}"

print("== results (medians over every run)")
vs, fs, rs, qs = compare("single", ["bin/tokens ", "small.db"], ["bin/floor ", "small.db"])
vl, fl, rl, ql = compare("single", ["bin/tokens ", "large.db"], ["bin/floor ", "large.db"])
print(f"verify, {100:,} tokens:        {ms(vs)}  floor {ms(fs)}  ratio {rs:.2f}  {spread(qs)}  (target <= 1.25)")
print(f"verify, 1,000,000 tokens:  {ms(vl)}  floor {ms(fl)}  ratio {rl:.2f}  {spread(ql)}  (target <= 1.25)")
runs, rounds, _ = load("single")
small, large = pick(runs, "bin/tokens ", "small.db"), pick(runs, "bin/tokens ", "large.db")
per_round = sorted(r[large] / r[small] for r in rounds)
print(f"verify, 1,000,000 / 100:   {vl / vs:.2f}  per-round quartiles {per_round[len(per_round) // 4]:.2f}-{per_round[3 * len(per_round) // 4]:.2f}  (target <= 1.2)")
runs, _, _ = load("due")
due = statistics.median(next(iter(runs.values())))
print(f"verify, last use due:      {ms(due)}  ratio to the floor {due / fl:.2f}  (at most once a minute per token)")
bt, bf, rb, qb = compare("batch", ["bin/tokens "], ["bin/floor "])
print(f"verify --batch, {100_000:,}:   {bt:.3f} s  floor {bf:.3f} s  ratio {rb:.2f}  {spread(qb)}  (target <= 1.5)")
bd, bdf, rbd, qbd = compare("batch-due", ["bin/tokens "], ["bin/floor "])
print(f"  every last use due:      {bd:.3f} s  floor {bdf:.3f} s  ratio {rbd:.2f}  {spread(qbd)}  (target <= 1.5)")
lt, ls, rlist, qlist = compare("list", ["bin/tokens "], ["sqlite3 -json"])
print(f"list --json --all, 1M:     {lt:.3f} s  sqlite3 -json {ls:.3f} s  ratio {rlist:.2f}  {spread(qlist)}  (target <= 2)")
peak = dict(line.split() for line in open("peak-kib.txt"))
mib = lambda what: int(peak[what]) / 1024
print(f"peak memory: verify {mib('verify'):.1f} MiB (target <= 16), floor {mib('floor'):.1f} MiB, "
      f"batch {mib('batch'):.1f} MiB, list {mib('list'):.1f} MiB (target <= 64), sqlite3 -json {mib('sqlite3'):.1f} MiB")
print(f"peak memory of log over 1,000,000 events: table {mib('log'):.1f} MiB, --json {mib('logjson'):.1f} MiB (target <= 64)")
EOF

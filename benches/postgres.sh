#!/usr/bin/env bash
# Whole-process benchmarks of `tokens` on a PostgreSQL vault, for docs/PERFORMANCE.md and
# docs/RELIABILITY.md: `tokens verify` beside the floor (examples/pg_floor.rs: connect, log in,
# one indexed SELECT, exit; same crate, same SCRAM login), `verify --batch` of 100,000 tokens beside
# a floor batch, and connection storms against a server with max_connections=100, directly and
# through PgBouncer (transaction mode). Run as root (the cluster runs as `postgres`, .ci/postgres);
# needs hyperfine, python3, PostgreSQL (psql too) and PgBouncer.
#
#   bash benches/postgres.sh                 # everything
#   ROUNDS=10 bash benches/postgres.sh       # more rounds, steadier ratios
#   ONLY=storms bash benches/postgres.sh     # one part: single, batch, floor or storms
#
# `floor` compares with the shared floor (PGFLOOR_SRC, ../shared/pgfloor: its own crate, built
# from a copy under $DIR, never inside shared/): a single verify (connect, SCRAM login over TCP,
# one keyed SELECT, SHA-256) and a batch (one connection, one prepared statement, a line in and
# a line out) of FLOOR_BATCH lines, directly and through PgBouncer (transaction mode).
#
# The cluster is a fresh one of its own (.ci/postgres start, max_connections=100, fsync off),
# stopped at the end. Each comparison is cut into ROUNDS short hyperfine rounds whose command order
# alternates, so a burst of load from elsewhere cannot land on one side only; the ratio given is
# the median of the per-round ratios of medians.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-6}
RUNS=${RUNS:-20}
BATCH=${BATCH:-100000}
STORMS=${STORMS:-300 1000}
FLOOR_BATCH=${FLOOR_BATCH:-20000}
PGFLOOR_SRC=${PGFLOOR_SRC:-../shared/pgfloor}
ONLY=${ONLY:-}
DIR=${BENCH_DIR:-target/bench-pg}

for tool in hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "postgres.sh: $tool is missing" >&2; exit 1; }
done

cargo build --release --locked --quiet --bin tokens --example seed --example pg_floor
mkdir -p "$DIR/bin" && chmod 700 "$DIR"
for binary in tokens examples/seed examples/pg_floor; do
  cp "${CARGO_TARGET_DIR:-target}/release/$binary" "$DIR/bin/"
done
ci_postgres=$PWD/.ci/postgres
if [ -z "$ONLY" ] || [ "$ONLY" = floor ]; then
  [ -d "$PGFLOOR_SRC" ] || { echo "postgres.sh: no shared floor at $PGFLOOR_SRC (set PGFLOOR_SRC)" >&2; exit 1; }
  rm -rf "$DIR/pgfloor-src" && cp -r "$PGFLOOR_SRC" "$DIR/pgfloor-src"
  (cd "$DIR/pgfloor-src" && CARGO_TARGET_DIR=../pgfloor-target cargo build --release --locked --quiet)
  cp "$DIR/pgfloor-target/release/pgfloor" "$DIR/bin/"
fi
cd "$DIR"
PGFLOOR=$PWD/bin/pgfloor
TOKENS=$PWD/bin/tokens
FLOOR=$PWD/bin/pg_floor
SEED=$PWD/bin/seed

# Under /tmp: the postgres user may not be able to enter the checkout.
cluster=$(mktemp -d /tmp/tokens-bench-pg.XXXXXX)
trap '"$ci_postgres" stop "$cluster" >/dev/null 2>&1 || true' EXIT
eval "$(TOKENS_TEST_PG_MAX_CONNECTIONS=100 "$ci_postgres" start "$cluster")"
direct_base=${TOKENS_TEST_POSTGRES_DIRECT%/postgres}
pooled_base=${TOKENS_TEST_POSTGRES%/postgres}
# Plain TCP on loopback for both sides: TLS would measure rustls, not tokens.
url() { echo "$1/$2?sslmode=disable"; }
admin() { psql -q "$TOKENS_TEST_POSTGRES_DIRECT" -c "$1"; }

# Vaults: seeded as SQLite files (examples/seed.rs), copied in with `tokens migrate`.
seed_into() { # NAME COUNT SAMPLE
  local name=$1 count=$2 sample=$3
  rm -f "$name.db"*
  "$SEED" --vault "$name.db" --count "$count" --sample "$sample" >"$name.txt"
  admin "CREATE DATABASE $name"
  "$TOKENS" migrate --from "$name.db" --to "$(url "$direct_base" "$name")" >/dev/null
}
seed_into small 100 1
head -1 small.txt >small-token.txt

median_ratio() { # JSON files of alternating rounds: tokens first or second
  python3 - "$@" <<'EOF'
import json, statistics, sys
ratios, tokens, floor = [], [], []
for path in sys.argv[1:]:
    results = {r["command"]: r for r in json.load(open(path))["results"]}
    t = statistics.median(results["tokens"]["times"])
    f = statistics.median(results["floor"]["times"])
    tokens.append(t); floor.append(f); ratios.append(t / f)
print(f"  tokens {statistics.median(tokens)*1000:.2f} ms, floor {statistics.median(floor)*1000:.2f} ms, "
      f"ratio {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")
EOF
}

compare() { # LABEL RUNS TOKENS_COMMAND FLOOR_COMMAND
  local label=$1 runs=$2 tokens_command=$3 floor_command=$4 files=()
  for round in $(seq "$ROUNDS"); do
    local json="$label-$round.json"
    if [ $((round % 2)) = 1 ]; then
      hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json" \
        -n tokens "$tokens_command" -n floor "$floor_command" >/dev/null
    else
      hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json" \
        -n floor "$floor_command" -n tokens "$tokens_command" >/dev/null
    fi
    files+=("$json")
  done
  echo "$label:"
  median_ratio "${files[@]}"
}

if [ -z "$ONLY" ] || [ "$ONLY" = single ]; then
  for via in direct pooled; do
    base=$direct_base
    [ "$via" = pooled ] && base=$pooled_base
    vault=$(url "$base" small)
    TOKENS_VAULT=$vault "$TOKENS" verify --token-file small-token.txt >/dev/null
    "$FLOOR" "$vault" small-token.txt
    export TOKENS_VAULT=$vault
    compare "single verify ($via)" "$RUNS" \
      "$TOKENS verify --token-file small-token.txt" "$FLOOR $vault small-token.txt"
  done
fi

if [ -z "$ONLY" ] || [ "$ONLY" = batch ]; then
  [ -f large.txt ] && [ "$(wc -l <large.txt)" = "$BATCH" ] || seed_into large "$BATCH" "$BATCH"
  vault=$(url "$direct_base" large)
  export TOKENS_VAULT=$vault
  # The first pass records every last use; the measured ones find them recent (as a busy service).
  "$TOKENS" verify --batch <large.txt >/dev/null
  "$FLOOR" "$vault" --batch <large.txt >floor-batch.out
  grep -c '"valid":true' floor-batch.out | sed 's/^/  floor batch: valid answers /'
  compare "verify --batch of $BATCH tokens (direct, one connection)" 1 \
    "bash -c '$TOKENS verify --batch <large.txt >/dev/null'" \
    "bash -c '$FLOOR $vault --batch <large.txt >/dev/null'"
fi

if [ -z "$ONLY" ] || [ "$ONLY" = floor ]; then
  # The floor's own table (floor_t) beside the vault in each database; its tokens are
  # "id<10 digits>_secret<n>".
  # The cluster is new each run: seed `large` unless the batch part just did.
  [ -n "$(psql -tA "$TOKENS_TEST_POSTGRES_DIRECT" -c "SELECT 1 FROM pg_database WHERE datname = 'large'")" ] &&
    [ "$(wc -l <large.txt)" -ge "$FLOOR_BATCH" ] || seed_into large "$FLOOR_BATCH" "$FLOOR_BATCH"
  "$PGFLOOR" seed "$(url "$direct_base" small)" 100
  "$PGFLOOR" seed "$(url "$direct_base" large)" "$FLOOR_BATCH"
  echo "id0000000001_secret1" >floor-token.txt
  head -n "$FLOOR_BATCH" large.txt >floor-large.txt
  seq 0 $((FLOOR_BATCH - 1)) | awk '{ printf "id%010d_secret%d\n", $1, $1 }' >floor-lines.txt
  # The floor always talks to the server itself: its named prepared statements fail through a
  # transaction-pooling PgBouncer (1.18 has no prepared-statement support), so `pooled` puts
  # tokens behind the pooler against the floor without it (the stricter comparison).
  small_floor=$(url "$direct_base" small)
  large_floor=$(url "$direct_base" large)
  for via in direct pooled; do
    base=$direct_base
    [ "$via" = pooled ] && base=$pooled_base
    export TOKENS_VAULT=$(url "$base" small)
    "$TOKENS" verify --token-file small-token.txt >/dev/null
    "$PGFLOOR" verify "$small_floor" <floor-token.txt
    # Both through bash: the floor reads its token from stdin (hyperfine 1.15 has no --input).
    compare "single verify ($via) vs the shared floor (direct)" "$RUNS" \
      "bash -c '$TOKENS verify --token-file small-token.txt'" \
      "bash -c '$PGFLOOR verify $small_floor <floor-token.txt'"
    export TOKENS_VAULT=$(url "$base" large)
    "$TOKENS" verify --batch <floor-large.txt >/dev/null
    "$PGFLOOR" batch "$large_floor" <floor-lines.txt | grep -c '"valid":true' |
      sed 's/^/  floor batch: valid answers /'
    compare "verify --batch of $FLOOR_BATCH lines ($via) vs the shared floor (direct)" 1 \
      "bash -c '$TOKENS verify --batch <floor-large.txt >/dev/null'" \
      "bash -c '$PGFLOOR batch $large_floor <floor-lines.txt >/dev/null'"
  done
fi

if [ -z "$ONLY" ] || [ "$ONLY" = storms ]; then
  # N verifies started at once (xargs -P N), each of a valid token with the default --timeout
  # (10 s); a failure is any exit but 0.
  token=$(head -1 small.txt)
  storm() { # VIA N
    local vault=$1 count=$2
    local started=$SECONDS
    local failures
    failures=$(seq "$count" | TOKENS_VAULT=$vault TOKEN=$token xargs -P "$count" -I{} \
      sh -c 'printf "%s\n" "$TOKEN" | "$0" verify >/dev/null 2>>storm-errors.txt || echo fail' "$TOKENS" |
      wc -l)
    echo "  $count at once: $failures failed ($((SECONDS - started)) s)"
  }
  : >storm-errors.txt
  ulimit -n 8192 2>/dev/null || true
  for count in $STORMS; do
    echo "storm, direct (max_connections=100):"
    storm "$(url "$direct_base" small)" "$count"
    echo "storm, through PgBouncer (transaction mode, pool 10):"
    storm "$(url "$pooled_base" small)" "$count"
  done
  if [ -s storm-errors.txt ]; then
    echo "  messages of the failures:"
    sort storm-errors.txt | uniq -c | sort -rn | head -5
  fi
fi

#!/usr/bin/env bash
# Benchmark: modhygiene tidy versus a sequential shell loop of
# `go mod tidy -diff` over the same 12 generated modules, side by side:
#   warm module cache (target ratio <= 0.6),
#   cold module cache through a loopback proxy adding 50 ms per request (<= 0.5),
#   nothing changed since the last run, i.e. the memo (<= 0.05).
# The modules depend on real libraries taken from this repository's own
# dependency graph. Generating them fills the local module cache through the
# configured GOPROXY once; every timed run is served from that cache (warm),
# or from it through a loopback proxy (cold). Usage: scripts/bench-tidy.sh [RUNS]
set -euo pipefail
runs=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
proxy_pid=
trap 'kill $proxy_pid 2>/dev/null || true; chmod -R u+w "$work"; rm -rf "$work"' EXIT

cd "$repo"
go mod download
cache=$(go env GOMODCACHE)/cache/download
go build -o "$work/modhygiene" ./cmd/modhygiene
go build -o "$work/slowproxy" ./internal/benchtools/slowproxy

# Realistic dependency sets: packages of modules in our own graph, pinned at
# the versions we use, rotated so that the modules overlap partly.
pkgs=(golang.org/x/mod/modfile golang.org/x/sync/errgroup github.com/google/go-cmp/cmp
  github.com/klauspost/compress/zstd go.yaml.in/yaml/v3 github.com/rogpeppe/go-internal/testscript
  golang.org/x/tools/go/packages github.com/minio/minio-go/v7 gitlab.com/gitlab-org/api/client-go
  golang.org/x/vuln/scan golang.org/x/text/language golang.org/x/net/http2)
root=$work/repo
for i in $(seq 1 12); do
  d=$root/svc$i
  mkdir -p "$d"
  imports=""
  for k in 0 3 5; do imports+="	_ \"${pkgs[$(( (i + k) % ${#pkgs[@]} ))]}\""$'\n'; done
  printf 'package main\n\nimport (\n%s)\n\nfunc main() {}\n' "$imports" > "$d/main.go"
  printf 'module example.com/bench/svc%d\n\ngo 1.25.0\n' "$i" > "$d/go.mod"
  cp go.sum "$d/go.sum"
  for m in $(go list -m -f '{{if not .Main}}{{.Path}}@{{.Version}}{{end}}' all); do
    (cd "$d" && GOFLAGS=-mod=mod GOPROXY=file://$cache GOWORK=off go mod edit -require="$m")
  done
  (cd "$d" && GOFLAGS=-mod=mod GOWORK=off go mod tidy)
done
echo "generated 12 modules under $root"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
loop() { for d in "$root"/svc*; do (cd "$d" && go mod tidy -diff >/dev/null); done; }
mh() { "$work/modhygiene" tidy --dir "$root" "$@" >/dev/null 2>&1; }

time_once() { # time_once CMD...: wall time in ms
  local t0; t0=$(now); "$@"; local t1; t1=$(now)
  echo $(( (t1 - t0) / 1000000 ))
}

# side_by_side SETUP A B: runs A and B alternately $runs times, each after
# SETUP, so that both see the same machine load; prints "medianA medianB".
side_by_side() {
  local setup=$1 a=$2 b=$3 ta=() tb=()
  for _ in $(seq 1 "$runs"); do
    $setup; ta+=("$(time_once $a)")
    $setup; tb+=("$(time_once $b)")
  done
  echo "$(printf '%s\n' "${ta[@]}" | median) $(printf '%s\n' "${tb[@]}" | median)"
}
mh_nomemo() { mh --no-memo; }

export GOFLAGS=-mod=mod GOWORK=off XDG_CACHE_HOME=$work/xdg
# Warm: the module cache holds everything; no network allowed.
export GOMODCACHE=$work/warm GOPROXY=file://$cache
loop # fills the warm cache with everything tidy reads
export GOPROXY=off
nop() { :; }
read -r warm_loop warm_mh < <(side_by_side nop loop mh_nomemo)
# The CPU time of the loop over the machine's cores bounds any parallel
# speed-up: tidy is CPU-bound once the cache is warm.
cpu_s=$( { /usr/bin/time -f '%U %S' bash -c "$(declare -f loop); root=$root; loop" >/dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}')

# Cold: an empty module cache each run, through a proxy adding 50 ms.
"$work/slowproxy" -dir "$cache" -delay 50ms > "$work/proxy.url" &
proxy_pid=$!
sleep 0.5
export GOPROXY=$(head -1 "$work/proxy.url")
wipe() { chmod -R u+w "$work/cold" 2>/dev/null || true; rm -rf "$work/cold"; export GOMODCACHE=$work/cold; }
read -r cold_loop cold_mh < <(side_by_side wipe loop mh_nomemo)

# Memo: nothing changed since the last run.
export GOMODCACHE=$work/warm GOPROXY=off
mh
read -r memo_loop memo_mh < <(side_by_side nop loop mh)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
printf '\n%-44s %10s %10s %8s %8s\n' "scenario (12 modules, median of $runs)" "loop ms" "mh ms" "ratio" "target"
printf '%-44s %10d %10d %8s %8s\n' "warm module cache" "$warm_loop" "$warm_mh" "$(ratio "$warm_mh" "$warm_loop")" "<=0.6"
printf '%-44s %10s %10d %8s %8s\n' "  floor: loop CPU ${cpu_s}s over $(nproc) cores" "" "$(awk -v c="$cpu_s" -v n="$(nproc)" 'BEGIN {printf "%d", c * 1000 / n}')" "$(awk -v c="$cpu_s" -v n="$(nproc)" -v w="$warm_loop" 'BEGIN {printf "%.3f", c * 1000 / n / w}')" ""
printf '%-44s %10d %10d %8s %8s\n' "cold cache, proxy +50ms/request" "$cold_loop" "$cold_mh" "$(ratio "$cold_mh" "$cold_loop")" "<=0.5"
printf '%-44s %10d %10d %8s %8s\n' "nothing changed (memo) vs warm loop" "$memo_loop" "$memo_mh" "$(ratio "$memo_mh" "$memo_loop")" "<=0.05"

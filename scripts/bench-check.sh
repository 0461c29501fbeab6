#!/usr/bin/env bash
# Benchmark of issue 3 (opt-in: it needs the module proxy): `modhygiene check`
# against the go commands it needs, measured side by side in one run, on the
# source of a large module (default github.com/goreleaser/goreleaser/v2@v2.15.1,
# a build list of more than 800 modules), through the go command's own GOPROXY.
#
# check runs, per module, two go commands at once, plus one `go env` for MH009:
#   go list -mod=readonly -m -e -json [-u] all                              (build list, -u: deprecations, retractions)
#   go list -mod=readonly -e -deps -test -json=ImportPath,Module,Error ./...      (linked modules)
#   go env -json GOSUMDB GONOSUMDB ...                                      (MH009)
# "go"     : those commands started together, as check starts them (the baseline)
# "go-seq" : the same commands one after another
# "check"  : modhygiene check --fail-on never
# Each line is the median wall time over RUNS alternating runs, online (-u)
# and --offline; ratio = check / go, target <= 1.5.
# Usage: scripts/bench-check.sh [RUNS] [MODULE@VERSION]
set -euo pipefail
runs=${1:-5}
target=${2:-github.com/goreleaser/goreleaser/v2@v2.15.1}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=

cd "$repo"
go build -o "$work/modhygiene" ./cmd/modhygiene
src=$(go mod download -json "$target" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
git init -q .
# Warm the module cache: both measurements then do the same work.
go mod download
go list -mod=readonly -e -deps -test ./... >/dev/null
go list -mod=readonly -m -e -u all >/dev/null
echo "$target: $(go list -mod=readonly -m all | wc -l) modules in the build list, $(go list -mod=readonly -e -deps -test ./... | wc -l) packages with tests"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
envvars="GOSUMDB GONOSUMDB GONOSUMCHECK GOPRIVATE GOINSECURE GOFLAGS GOPROXY"
gocmds() { # gocmds [-u]: the commands check needs, started together
  go list -mod=readonly -m -e -json "$@" all >/dev/null &
  go list -mod=readonly -e -deps -test -json=ImportPath,Module,Error ./... >/dev/null &
  go env -json $envvars >/dev/null &
  wait
}
gocmds_seq() {
  go list -mod=readonly -m -e -json "$@" all >/dev/null
  go list -mod=readonly -e -deps -test -json=ImportPath,Module,Error ./... >/dev/null
  go env -json $envvars >/dev/null
}
mh() { "$work/modhygiene" check --dir . --fail-on never "$@" >/dev/null 2>&1; }
ms() { local t0 t1; t0=$(now); "$@"; t1=$(now); echo $(( (t1 - t0) / 1000000 )); }

for mode in online offline; do
  if [ "$mode" = online ]; then u=-u; off=; else u=; off=--offline; fi
  : >"$work/go" ; : >"$work/seq"; : >"$work/mh"
  for _ in $(seq 1 "$runs"); do
    ms gocmds $u >>"$work/go"
    ms mh $off >>"$work/mh"
    ms gocmds_seq $u >>"$work/seq"
  done
  g=$(median <"$work/go"); s=$(median <"$work/seq"); c=$(median <"$work/mh")
  printf '%-8s go %6d ms   go-seq %6d ms   check %6d ms   ratio check/go %s   (target <= 1.5)\n' \
    "$mode" "$g" "$s" "$c" "$(awk -v c="$c" -v g="$g" 'BEGIN{printf "%.2f", c/g}')"
done

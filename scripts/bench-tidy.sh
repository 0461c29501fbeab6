#!/usr/bin/env bash
# Benchmark of issue 15: `modhygiene tidy` against a sequential loop of
# `go mod tidy -diff` over the same modules, measured side by side in one
# run (each round runs the loop and every modhygiene scenario once), warm
# module cache, no network (GOPROXY=off):
#
#   no memo          modhygiene tidy --no-memo                          target <= 0.7
#   full memo        nothing changed since the last run                 target <= 0.05
#   one go.mod       one module's go.mod changed, the memo knows the rest  <= 0.15
#   imported memo    a fresh checkout elsewhere with an empty cache dir,
#                    the memo imported as CI restores it (so the stat
#                    cache is cold), one module's go.mod changed; compared
#                    with the loop on a fresh checkout too (the go
#                    command's index of local files is cold there)     <= 0.15
#
# Ratios are modhygiene's median wall time over the loop's. For the no-memo
# run it also prints the loop's CPU time, the bound that CPU time sets on
# this machine for running the same go commands in parallel (CPU / cores),
# and our ratio to that bound. "checked" counts the modules modhygiene ran
# the go command for.
#
# Corpora (default: otel):
#   otel         opentelemetry-go v1.38.0 rebuilt from its released module
#                zips, fetched through the go command's GOPROXY and laid
#                out as the repository (23 modules, relative replaces)
#   contrib=DIR  a checkout of opentelemetry-go-contrib at DIR; its tools
#                module is left out (the proxy refuses one of its
#                dependencies, so it can only fail)
#
# Usage: scripts/bench-tidy.sh [-runs N] [otel] [contrib=DIR]...
set -euo pipefail
runs=3
corpora=()
while [ $# -gt 0 ]; do
  case $1 in
    -runs) runs=$2; shift 2 ;;
    otel|contrib=*) corpora+=("$1"); shift ;;
    *) echo "usage: $0 [-runs N] [otel] [contrib=DIR]..." >&2; exit 2 ;;
  esac
done
[ ${#corpora[@]} -gt 0 ] || corpora=(otel)
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$repo"
go build -o "$work/modhygiene" ./cmd/modhygiene
go build -o "$work/tidybench" ./internal/benchtools/tidybench
export GOFLAGS=-mod=mod GOWORK=off

otel_modules="go.opentelemetry.io/otel@v1.38.0
go.opentelemetry.io/otel/bridge/opencensus@v1.38.0
go.opentelemetry.io/otel/bridge/opentracing@v1.38.0
go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc@v1.38.0
go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp@v1.38.0
go.opentelemetry.io/otel/exporters/otlp/otlptrace@v1.38.0
go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc@v1.38.0
go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp@v1.38.0
go.opentelemetry.io/otel/exporters/stdout/stdoutmetric@v1.38.0
go.opentelemetry.io/otel/exporters/stdout/stdouttrace@v1.38.0
go.opentelemetry.io/otel/exporters/zipkin@v1.38.0
go.opentelemetry.io/otel/metric@v1.38.0
go.opentelemetry.io/otel/sdk@v1.38.0
go.opentelemetry.io/otel/sdk/metric@v1.38.0
go.opentelemetry.io/otel/trace@v1.38.0
go.opentelemetry.io/otel/exporters/prometheus@v0.60.0
go.opentelemetry.io/otel/log@v0.14.0
go.opentelemetry.io/otel/log/logtest@v0.14.0
go.opentelemetry.io/otel/sdk/log@v0.14.0
go.opentelemetry.io/otel/sdk/log/logtest@v0.14.0
go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc@v0.14.0
go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp@v0.14.0
go.opentelemetry.io/otel/exporters/stdout/stdoutlog@v0.14.0"

# make_otel DIR: lays the released module zips out as the repository.
make_otel() {
  local root=$1 mv dir sub
  mkdir -p "$root"
  for mv in $otel_modules; do
    dir=$(go mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { echo "cannot download $mv" >&2; exit 1; }
    sub=${mv%@*}; sub=${sub#go.opentelemetry.io/otel}; sub=${sub#/}
    mkdir -p "$root/$sub"
    cp -r "$dir/." "$root/$sub/"
  done
  chmod -R u+w "$root"
}

# make_contrib SRC DIR: copies the checkout, without its tools module.
make_contrib() {
  mkdir -p "$2"
  (cd "$1" && tar --exclude=.git -cf - .) | tar -xf - -C "$2"
  rm -rf "$2/tools"
}

# module_dirs ROOT: the module directories, as modhygiene finds them.
module_dirs() {
  (cd "$1" && find . \( -name vendor -o -name testdata -o -name '[._]?*' \) -prune -o -name go.mod -print |
    sed 's|/go.mod$||' | sort)
}

loop() { local d; for d in $dirs; do (cd "$root/$d" && go mod tidy -diff >/dev/null 2>&1) || true; done; }
mh() { XDG_CACHE_HOME=$xdg "$work/modhygiene" tidy "$@" 2>"$work/mh.err" >/dev/null || true; }

# measure CMD...: prints "wall_ms cpu_ms" of CMD (children included).
measure() {
  local TIMEFORMAT='%R %U %S' out
  out=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' <<<"$out"
}
checked() { { grep -c '^tidy ' "$work/mh.err" || true; } | awk -v m="$(grep -c '(memo)' "$work/mh.err" || true)" '{print $1 - m}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$1" '{print $c}' "$2" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# touch_gomod DIR N: changes a module's go.mod without making it untidy.
touch_gomod() { printf '\n// bench change %s\n' "$2" >>"$1/go.mod"; }

bench() {
  local name=$1 leaf=$2 n i
  dirs=$(module_dirs "$root")
  n=$(wc -w <<<"$dirs")
  xdg=$work/$name.xdg
  echo "== $name: $n modules under $root; warming the module cache through GOPROXY"
  loop
  export GOPROXY=off
  mh --dir "$root"; mh --dir "$root" # the memo and its stat cache
  XDG_CACHE_HOME=$xdg "$work/tidybench" export "$xdg/modhygiene/tidy-memo" >"$work/blob"
  echo "memo blob: $(wc -c <"$work/blob") bytes; load before: $(uptime | sed 's/.*load average: //')"
  : >"$work/loop.t"; : >"$work/nomemo.t"; : >"$work/memo.t"; : >"$work/one.t"; : >"$work/import.t"; : >"$work/freshloop.t"
  for i in $(seq 1 "$runs"); do
    measure loop >>"$work/loop.t"
    echo "$(measure mh --dir "$root" --no-memo) $(checked)" >>"$work/nomemo.t"
    echo "$(measure mh --dir "$root") $(checked)" >>"$work/memo.t"
    touch_gomod "$root/$leaf" "$i"
    echo "$(measure mh --dir "$root") $(checked)" >>"$work/one.t"
    # A fresh checkout elsewhere, an empty cache dir, the memo imported.
    local copy=$work/checkout-$i saved_xdg=$xdg
    cp -r "$root" "$copy"
    xdg=$work/$name.xdg-$i
    XDG_CACHE_HOME=$xdg "$work/tidybench" import "$xdg/modhygiene/tidy-memo" main <"$work/blob" 2>/dev/null
    touch_gomod "$copy/$leaf" "fresh-$i"
    echo "$(measure mh --dir "$copy") $(checked)" >>"$work/import.t"
    xdg=$saved_xdg
    rm -rf "$copy"
    # The loop on a fresh checkout too: the go command's own index of the
    # main module's and replaced directories' files is cold there as well.
    cp -r "$root" "$copy"
    touch_gomod "$copy/$leaf" "fresh-$i"
    root=$copy measure loop >>"$work/freshloop.t"
    rm -rf "$copy"
  done
  local lw lc nw nc
  lw=$(col 1 "$work/loop.t"); lc=$(col 2 "$work/loop.t")
  nw=$(col 1 "$work/nomemo.t"); nc=$(col 2 "$work/nomemo.t")
  local cores bound
  cores=$(nproc)
  bound=$((lc / cores))
  printf '\n%-40s %9s %9s %7s %7s %8s\n' "$name ($n modules, median of $runs)" "loop ms" "mh ms" "ratio" "target" "checked"
  printf '%-40s %9d %9d %7s %7s %8s\n' "no memo" "$lw" "$nw" "$(ratio "$nw" "$lw")" "<=0.7" "$(col 3 "$work/nomemo.t")/$n"
  printf '%-40s %9s %9d %7s\n' "  loop CPU ${lc} ms / $cores cores = bound" "" "$bound" "$(ratio "$bound" "$lw")"
  printf '%-40s %9s %9d %7s\n' "  no-memo CPU ${nc} ms; no memo / bound" "" "$nw" "$(ratio "$nw" "$bound")"
  printf '%-40s %9d %9d %7s %7s %8s\n' "full memo, nothing changed" "$lw" "$(col 1 "$work/memo.t")" "$(ratio "$(col 1 "$work/memo.t")" "$lw")" "<=0.05" "$(col 3 "$work/memo.t")/$n"
  printf '%-40s %9d %9d %7s %7s %8s\n' "one go.mod changed ($leaf)" "$lw" "$(col 1 "$work/one.t")" "$(ratio "$(col 1 "$work/one.t")" "$lw")" "<=0.15" "$(col 3 "$work/one.t")/$n"
  local fw
  fw=$(col 1 "$work/freshloop.t")
  printf '%-40s %9d %9d %7s %7s %8s\n' "imported memo, fresh checkout, one go.mod" "$fw" "$(col 1 "$work/import.t")" "$(ratio "$(col 1 "$work/import.t")" "$fw")" "<=0.15" "$(col 3 "$work/import.t")/$n"
  printf '%-40s\n' "  (its loop also runs on a fresh checkout)"
  echo "load after: $(uptime | sed 's/.*load average: //')"
  export GOPROXY=$proxy
}

proxy=$(go env GOPROXY)
export GOPROXY=$proxy
# modhygiene runs get their own XDG_CACHE_HOME (the memo's home); the go
# command's build cache, where it indexes module sources, stays the one
# the loop uses.
export GOCACHE=$(go env GOCACHE)
echo "$(nproc) cores; $(go version)"
for c in "${corpora[@]}"; do
  case $c in
    otel) root=$work/otel/repo; make_otel "$root"; bench otel exporters/zipkin ;;
    contrib=*) root=$work/contrib/repo; make_contrib "${c#contrib=}" "$root"; bench contrib propagators/b3 ;;
  esac
done

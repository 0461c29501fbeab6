#!/usr/bin/env bash
# bench-proxy.sh: the acceptance benchmark of issue 16 (the module proxy).
#
# Once, it fetches a real module graph (the go.mod and go.sum of GRAPH, by
# default this repository: about 280 modules) through the go command's
# own GOPROXY into a corpus directory. From then on everything is on
# loopback: internal/benchtools/mirrorfarm serves the corpus through three
# mirrors (fast: 50ms, slow: 150ms, hang: 50ms and every 10th request
# hangs for HANG_FOR, then drops) with a checksum database for it signed
# by a key made at start, and `go mod download all` runs into an empty
# module cache each time, the same command in every case:
#
#   cold    through the proxy (probe, then hedging over hang, fast and slow)
#           against the fast mirror alone                     bound 1.3
#           and against the go command's own hang|fast|slow chain, printed beside
#   warm    through the proxy serving a warm GOMODCACHE
#           against GOPROXY=file://$GOMODCACHE/cache/download  bound 1.1
#   store   a second runner: the proxy with an empty cache, every mirror
#           down, the store the cold run filled (file, and s3 on gofakes3)
#           against the same file:// limit                    bound 1.5
#
# Each case runs RUNS times, the two sides of a comparison in turn and in
# both orders, their sources read once before (page cache); the table shows
# the fastest run of each. Environment: GRAPH (module directory), RUNS (3), HANG_FOR (10s),
# CHAIN_LIMIT (seconds the go command's chain may take, 300), BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GRAPH=${GRAPH:-$ROOT}
RUNS=${RUNS:-3}
HANG_FOR=${HANG_FOR:-10s}
CHAIN_LIMIT=${CHAIN_LIMIT:-300}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/modhygiene-bench-proxy}
mkdir -p "$WORK/bin" "$WORK/tmp"
go build -o "$WORK/bin/" ./internal/benchtools/mirrorfarm ./internal/benchtools/proxyserve ./internal/benchtools/fakes3
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rmtree "$WORK/tmp"
}
rmtree() { [ -e "$1" ] && chmod -R u+w "$1" && rm -rf "$1"; true; }
trap cleanup EXIT

# The corpus: fetched once through the go command's own proxy (the local
# module cache first, so that what is already on disk is not fetched again).
SRC=$WORK/src
CORPUS=$WORK/corpus
if [ ! -f "$WORK/corpus.done" ]; then
	rmtree "$CORPUS"
	mkdir -p "$SRC"
	cp "$GRAPH/go.mod" "$GRAPH/go.sum" "$SRC/"
	printf 'package main\n\nfunc main() {}\n' >"$SRC/main.go"
	(cd "$SRC" && GOMODCACHE=$CORPUS GOFLAGS=-mod=mod GOWORK=off \
		GOPROXY="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" go mod download all)
	touch "$WORK/corpus.done"
fi
DL=$CORPUS/cache/download
NMOD=$(find "$DL" -name '*.zip' | wc -l)

# The mirrors and an S3 store.
"$WORK/bin/mirrorfarm" -dir "$DL" -mirror fast:latency=50ms -mirror slow:latency=150ms \
	-mirror "hang:latency=50ms,hangevery=10,hangfor=$HANG_FOR" >"$WORK/tmp/farm" &
PIDS+=($!)
"$WORK/bin/fakes3" -bucket bench >"$WORK/tmp/s3" &
PIDS+=($!)
until grep -q ready "$WORK/tmp/farm" 2>/dev/null && [ -s "$WORK/tmp/s3" ]; do sleep 0.1; done
KEY=$(awk '$1 == "GOSUMDB" {print $2}' "$WORK/tmp/farm")
url() { awk -v n="$1" '$1 == n {print $2}' "$WORK/tmp/farm"; }
FAST=$(url fast) SLOW=$(url slow) HANG=$(url hang)
S3=$(head -1 "$WORK/tmp/s3")
DOWN=http://127.0.0.1:9 # discard: nothing listens
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

# download MODCACHE GOPROXY: a cold `go mod download all`, its seconds on stdout.
download() {
	local t0 t1
	# The previous download's writes reach the disk first, so that no run
	# pays for another's writeback.
	sync
	t0=$(date +%s%N)
	if ! (cd "$SRC" && env GOMODCACHE="$1" GOPROXY="$2" GOSUMDB="$KEY" GONOSUMDB= GOPRIVATE= GONOPROXY= \
		GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off GOENV=off timeout "${3:-600}" go mod download all) >"$WORK/tmp/go.log" 2>&1; then
		echo fail
		tail -3 "$WORK/tmp/go.log" >&2
		return
	fi
	t1=$(date +%s%N)
	echo "scale=2; ($t1 - $t0) / 1000000000" | bc
}

# proxy ARGS...: starts proxyserve; sets PROXY and PROXY_PID.
proxy() {
	rm -f "$WORK/tmp/proxy.url"
	"$WORK/bin/proxyserve" -dir "$WORK/tmp/pdir" -sumdb "$KEY" -stats "$WORK/tmp/stats.json" "$@" \
		>"$WORK/tmp/proxy.url" 2>>"$WORK/tmp/proxy.log" &
	PROXY_PID=$!
	until [ -s "$WORK/tmp/proxy.url" ]; do sleep 0.05; done
	PROXY=$(head -1 "$WORK/tmp/proxy.url")
}
stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || true
	rmtree "$WORK/tmp/pdir"
}

declare -A best
record() { # record CASE SECONDS
	echo "  $1: $2 s" >&2
	if [ "$2" != fail ] && { [ -z "${best[$1]:-}" ] || [ "$(echo "$2 < ${best[$1]}" | bc)" = 1 ]; }; then
		best[$1]=$2
	fi
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); graph: $NMOD module zips ($(du -sh "$DL" | cut -f1))" >&2
MC=$WORK/tmp/mc
# preread DIR: reads every file, so that both sides of a comparison start
# with their source in the page cache.
preread() { tar -cf - -C "$1" . >/dev/null; }
cold_fast() { record fast "$(download "$MC/fast" "$FAST")"; }
cold_proxy() { # the first runner, with a file store, then with an s3 store
	proxy -probe -probe-dir "$SRC" -mirror "hang=$HANG" -mirror "fast=$FAST" -mirror "slow=$SLOW" \
		-store "file://$WORK/tmp/store$run" -modcache "$MC/p1"
	record proxy-cold "$(download "$MC/p1" "$PROXY")"
	stop_proxy
	cp "$WORK/tmp/stats.json" "$WORK/tmp/stats-cold.json"
	proxy -probe -probe-dir "$SRC" -mirror "hang=$HANG" -mirror "fast=$FAST" -mirror "slow=$SLOW" \
		-store "s3://bench/run$run?endpoint=$S3&style=path" -modcache "$MC/p2"
	record proxy-cold-s3 "$(download "$MC/p2" "$PROXY")"
	stop_proxy
}
warm_file() {
	preread "$MC/fast/cache/download"
	record file "$(download "$MC/file" "file://$MC/fast/cache/download")"
}
warm_proxy() {
	preread "$MC/fast/cache/download"
	proxy -modcache "$MC/fast" -mirror "down=$DOWN"
	record proxy-warm "$(download "$MC/warm" "$PROXY")"
	stop_proxy
}
second_runner() { # every mirror down, an empty module cache, the store the cold run filled
	preread "$WORK/tmp/store$run"
	proxy -mirror "down1=$DOWN" -mirror "down2=$DOWN" -store "file://$WORK/tmp/store$run" -modcache "$MC/s1"
	record store-file "$(download "$MC/s1" "$PROXY")"
	stop_proxy
	proxy -mirror "down1=$DOWN" -mirror "down2=$DOWN" -store "s3://bench/run$run?endpoint=$S3&style=path" -modcache "$MC/s2"
	record store-s3 "$(download "$MC/s2" "$PROXY")"
	stop_proxy
}
for run in $(seq "$RUNS"); do
	echo "run $run" >&2
	rmtree "$MC"
	# Each pair runs in turn in both orders, so neither side always comes first.
	if [ $((run % 2)) = 1 ]; then
		cold_fast
		cold_proxy
		warm_file
		warm_proxy
	else
		cold_proxy
		cold_fast
		warm_proxy
		warm_file
	fi
	second_runner
	rmtree "$MC"
	rmtree "$WORK/tmp/store$run"
done
echo "go command's own chain hang|fast|slow (once, limit ${CHAIN_LIMIT}s)" >&2
chain=$(download "$MC/chain" "$HANG|$FAST|$SLOW" "$CHAIN_LIMIT")
[ "$chain" = fail ] && chain=">$CHAIN_LIMIT"
rmtree "$MC"

ratio() { echo "scale=2; $1 / $2" | bc; }
echo
echo "graph: $NMOD modules; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); fastest of $RUNS runs"
printf '%-44s %9s %9s %7s %7s\n' case seconds baseline ratio bound
row() { printf '%-44s %9s %9s %7s %7s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"; }
row "cold: proxy (probe, hedging) / fast mirror" "${best[proxy-cold]}" "${best[fast]}" 1.3
row "cold: proxy, s3 store / fast mirror" "${best[proxy-cold-s3]}" "${best[fast]}" 1.3
if [[ $chain == ">"* ]]; then
	printf '%-44s %9s %9s %7s %7s\n' "cold: go chain hang|fast|slow / fast mirror" "$chain" "${best[fast]}" ">$(ratio "${chain#>}" "${best[fast]}")" -
else
	row "cold: go chain hang|fast|slow / fast mirror" "$chain" "${best[fast]}" -
fi
row "warm: proxy over GOMODCACHE / file://" "${best[proxy-warm]}" "${best[file]}" 1.1
row "second runner: file store, mirrors down / file://" "${best[store-file]}" "${best[file]}" 1.5
row "second runner: s3 store, mirrors down / file://" "${best[store-s3]}" "${best[file]}" 1.5
echo
echo "the last cold run's proxy (file store):"
"$WORK/bin/proxyserve" -show "$WORK/tmp/stats-cold.json"

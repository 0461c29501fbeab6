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
# the fastest run of each, its ratio, and the ratio of the medians. Environment: GRAPH (module directory), RUNS (3), HANG_FOR (10s),
# CHAIN_LIMIT (seconds the go command's chain may take, 300), BENCH_DIR,
# SCRATCH (where the runs write: /dev/shm when it has 4 GiB free).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GRAPH=${GRAPH:-$ROOT}
RUNS=${RUNS:-3}
HANG_FOR=${HANG_FOR:-10s}
CHAIN_LIMIT=${CHAIN_LIMIT:-300}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/modhygiene-bench-proxy}
# Every module cache the runs fill, the proxy's directory and the stores
# live in TMPW: on a RAM disk when there is one with room, because what is
# compared is the proxy against the file:// limit, and this machine's disk
# writeback made the very same download take 5 s in one run and 15 s in
# the next. The corpus stays on disk (read once into the page cache).
if [ -z "${SCRATCH:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $((4 * 1024 * 1024)) ]; then
	SCRATCH=/dev/shm
fi
TMPW=${SCRATCH:-$WORK}/modhygiene-bench-proxy-tmp
mkdir -p "$WORK/bin" "$TMPW"
go build -o "$WORK/bin/" ./internal/benchtools/mirrorfarm ./internal/benchtools/proxyserve ./internal/benchtools/fakes3
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rmtree "$TMPW"
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

# The mirrors.
"$WORK/bin/mirrorfarm" -dir "$DL" -mirror fast:latency=50ms -mirror slow:latency=150ms \
	-mirror "hang:latency=50ms,hangevery=10,hangfor=$HANG_FOR" >"$TMPW/farm" &
PIDS+=($!)
until grep -q ready "$TMPW/farm" 2>/dev/null; do sleep 0.1; done
KEY=$(awk '$1 == "GOSUMDB" {print $2}' "$TMPW/farm")
url() { awk -v n="$1" '$1 == n {print $2}' "$TMPW/farm"; }
FAST=$(url fast) SLOW=$(url slow) HANG=$(url hang)
# s3_start: a fresh S3 server (in memory) for a run, so that no run pays
# for the previous runs' objects in its heap; sets S3.
S3_PID=
s3_start() {
	if [ -n "$S3_PID" ]; then kill "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null || true; fi
	rm -f "$TMPW/s3"
	"$WORK/bin/fakes3" -bucket bench >"$TMPW/s3" &
	S3_PID=$!
	PIDS+=("$S3_PID")
	until [ -s "$TMPW/s3" ]; do sleep 0.1; done
	S3=$(head -1 "$TMPW/s3")
}
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
		GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off GOENV=off timeout "${3:-600}" go mod download all) >"$TMPW/go.log" 2>&1; then
		echo fail
		tail -3 "$TMPW/go.log" >&2
		return
	fi
	t1=$(date +%s%N)
	echo "scale=2; ($t1 - $t0) / 1000000000" | bc
	# Only the fast mirror's module cache is read again (the warm cases'
	# source); the others go at once, so that no case runs with the
	# previous cases' gigabytes still on the RAM disk.
	[ "$1" = "$MC/fast" ] || rmtree "$1"
}

# proxy ARGS...: starts proxyserve; sets PROXY and PROXY_PID.
proxy() {
	rm -f "$TMPW/proxy.url"
	"$WORK/bin/proxyserve" -dir "$TMPW/pdir" -sumdb "$KEY" -stats "$TMPW/stats.json" "$@" \
		>"$TMPW/proxy.url" 2>>"$TMPW/proxy.log" &
	PROXY_PID=$!
	until [ -s "$TMPW/proxy.url" ]; do sleep 0.05; done
	PROXY=$(head -1 "$TMPW/proxy.url")
}
stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || true
	rmtree "$TMPW/pdir"
}

declare -A best all
record() { # record CASE SECONDS
	echo "  $1: $2 s" >&2
	all[$1]="${all[$1]:-} $2"
	if [ "$2" != fail ] && { [ -z "${best[$1]:-}" ] || [ "$(echo "$2 < ${best[$1]}" | bc)" = 1 ]; }; then
		best[$1]=$2
	fi
}

echo "scratch: $TMPW" >&2
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); graph: $NMOD module zips ($(du -sh "$DL" | cut -f1))" >&2
MC=$TMPW/mc
# preread DIR: reads every file, so that both sides of a comparison start
# with their source in the page cache.
preread() { tar -cf - -C "$1" . >/dev/null; }
cold_fast() { record fast "$(download "$MC/fast" "$FAST")"; }
cold_proxy() { # the first runner, with a file store, then with an s3 store
	proxy -probe -probe-dir "$SRC" -mirror "hang=$HANG" -mirror "fast=$FAST" -mirror "slow=$SLOW" \
		-store "file://$TMPW/store$run" -modcache "$MC/p1"
	record proxy-cold "$(download "$MC/p1" "$PROXY")"
	stop_proxy
	cp "$TMPW/stats.json" "$TMPW/stats-cold.json"
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
	preread "$TMPW/store$run"
	proxy -mirror "down1=$DOWN" -mirror "down2=$DOWN" -store "file://$TMPW/store$run" -modcache "$MC/s1"
	record store-file "$(download "$MC/s1" "$PROXY")"
	stop_proxy
	proxy -mirror "down1=$DOWN" -mirror "down2=$DOWN" -store "s3://bench/run$run?endpoint=$S3&style=path" -modcache "$MC/s2"
	record store-s3 "$(download "$MC/s2" "$PROXY")"
	stop_proxy
}
for run in $(seq "$RUNS"); do
	echo "run $run" >&2
	rmtree "$MC"
	s3_start
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
	rmtree "$TMPW/store$run"
done
echo "go command's own chain hang|fast|slow (once, limit ${CHAIN_LIMIT}s)" >&2
chain=$(download "$MC/chain" "$HANG|$FAST|$SLOW" "$CHAIN_LIMIT")
[ "$chain" = fail ] && chain=">$CHAIN_LIMIT"
rmtree "$MC"

ratio() { echo "scale=2; $1 / $2" | bc; }
# median CASE: the median of the case's runs that did not fail.
median() {
	local v
	mapfile -t v < <(tr ' ' '\n' <<<"${all[$1]}" | grep -v -e "^$" -e fail | sort -g)
	echo "${v[$(((${#v[@]} - 1) / 2))]}"
}
echo
echo "graph: $NMOD modules; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); scratch $TMPW"
echo "seconds: the fastest of $RUNS runs; ratio: of the fastest runs; median: of the medians"
printf '%-50s %8s %8s %6s %8s %6s\n' case seconds baseline ratio "median" bound
# row LABEL CASE BASE BOUND: the fastest runs' ratio, and the medians'.
row() {
	printf '%-50s %8s %8s %6s %8s %6s\n' "$1" "${best[$2]}" "${best[$3]}" "$(ratio "${best[$2]}" "${best[$3]}")" \
		"$(ratio "$(median "$2")" "$(median "$3")")" "$4"
}
row "cold: proxy (probe, hedging) / fast mirror" proxy-cold fast 1.3
row "cold: proxy, s3 store / fast mirror" proxy-cold-s3 fast 1.3
if [[ $chain == ">"* ]]; then
	printf '%-50s %8s %8s %6s %8s %6s\n' "cold: go chain hang|fast|slow / fast mirror" "$chain" "${best[fast]}" ">$(ratio "${chain#>}" "${best[fast]}")" "" -
else
	printf '%-50s %8s %8s %6s %8s %6s\n' "cold: go chain hang|fast|slow / fast mirror" "$chain" "${best[fast]}" "$(ratio "$chain" "${best[fast]}")" "" -
fi
row "warm: proxy over GOMODCACHE / file://" proxy-warm file 1.1
row "second runner: file store, mirrors down / file://" store-file file 1.5
row "second runner: s3 store, mirrors down / file://" store-s3 file 1.5
echo
echo "the last cold run's proxy (file store):"
"$WORK/bin/proxyserve" -show "$TMPW/stats-cold.json"

#!/usr/bin/env bash
# Benchmarks `modhygiene cache` on a real module cache and prints every
# figure side by side in one run. Needs tar, zstd and bc. The bump and the
# cold download reach the module proxy, so they run only with
# MODHYGIENE_ONLINE=1.
#
#   bash scripts/bench-cache.sh [MODULE_DIR...]
#
# Without MODULE_DIRs it makes a module that requires BENCH_REQUIRE (large
# real modules: client-go, the AWS SDK v1, the Google API clients; about
# 600 MB once pruned) and downloads its dependencies through the module
# proxy (go env GOPROXY) into a module cache of its own: that needs the
# network. The MODULE_DIRs, when given, are copied (go.mod and go.sum
# only) into one repository of several modules, as a monorepo would have,
# and their module files come from $(go env GOMODCACHE), which must
# already hold them. Either way the cache is keyed by the union of the
# go.sum files, and the restore verifies every module version against
# them (docs/cache.md). The machine's load is printed before and after. Knobs:
#   SHARDS  shard counts compared (default "1 4 8 16 32")
#   RUNS    runs of each timing, the fastest is shown (default 3)
#   BUMP    dependency of the first module bumped to its next release
#           (default github.com/aws/aws-sdk-go without MODULE_DIRs, else
#           github.com/minio/minio-go/v7)
#   BENCH_REQUIRE  the modules required without MODULE_DIRs
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shards=${SHARDS:-"1 4 8 16 32"}
runs=${RUNS:-3}
src=$(go env GOMODCACHE)
for t in tar zstd bc; do command -v $t >/dev/null || { echo "bench-cache: $t not found" >&2; exit 1; }; done

work=$(mktemp -d "${TMPDIR:-/tmp}/mh-bench-cache.XXXXXX")
fresh() { chmod -R u+w "$1" 2>/dev/null || true; rm -rf "$1"; mkdir -p "$1"; }
cleanup() { fresh "$work"; rmdir "$work"; }
trap cleanup EXIT
mh=$work/modhygiene
(cd "$repo" && go build -o "$mh" ./cmd/modhygiene)
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
echo "load before: $(uptime)"

if [ $# -eq 0 ]; then
	# A module of large real dependencies, fetched through the module proxy
	# into a module cache of its own.
	require=${BENCH_REQUIRE:-"k8s.io/client-go@v0.31.0 github.com/aws/aws-sdk-go@v1.55.5 cloud.google.com/go/storage@v1.43.0 google.golang.org/api@v0.190.0"}
	mkdir -p "$work/real"
	printf 'module example.com/benchcache\n\ngo 1.23\n' >"$work/real/go.mod"
	{
		echo 'package main'
		echo 'import ('
		echo '	_ "k8s.io/client-go/kubernetes"'
		echo '	_ "github.com/aws/aws-sdk-go/service/s3"'
		echo '	_ "cloud.google.com/go/storage"'
		echo '	_ "google.golang.org/api/compute/v1"'
		echo ')'
		echo 'func main() {}'
	} >"$work/real/main.go"
	[ -n "${BENCH_REQUIRE:-}" ] && rm "$work/real/main.go"
	src=$work/realcache
	(cd "$work/real" && GOMODCACHE=$src go get $require >/dev/null 2>&1 && GOMODCACHE=$src go mod tidy >/dev/null 2>&1 && GOMODCACHE=$src go mod download)
	echo "downloaded $require through the module proxy (go env GOPROXY)"
	set -- "$work/real"
	bump=${BUMP:-github.com/aws/aws-sdk-go}
fi
bump=${BUMP:-${bump:-github.com/minio/minio-go/v7}}

# now returns the time in seconds; settle first writes back dirty pages so
# that no timing pays for the one before it.
now() { date +%s.%N; }
settle() { sync; sleep 3; }
since() { echo "$(now) - $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
mb() { echo "scale=1; $1 / 1048576" | bc -l; }
min() { echo "$@" | tr ' ' '\n' | sort -g | head -1; }

# p1: the repository of modules, as it is.
i=0
for d in "$@"; do
	mkdir -p "$work/p1/m$i"
	cp "$d/go.mod" "$work/p1/m$i/"
	[ -f "$d/go.sum" ] && cp "$d/go.sum" "$work/p1/m$i/"
	chmod u+w "$work/p1/m$i"/*
	i=$((i + 1))
done

# c1: the pruned module cache, made by a save from the real cache and a
# restore (byte for byte the pruned cache).
GOMODCACHE=$src "$mh" cache save --dir "$work/p1" --store "file://$work/seed" >/dev/null
c1=$work/c1
GOMODCACHE=$c1 "$mh" cache restore --dir "$work/p1" --store "file://$work/seed" >/dev/null
fresh "$work/seed"
size=$(du -sb "$c1" | cut -f1)
files=$(find "$c1" -type f | wc -l)
echo "module cache: $# module(s), $(mb "$size") MiB ($(echo "scale=0; $size / 1000000" | bc) MB) in $files files, pruned to their go.sum; $(nproc) cores; fastest of $runs runs"

online=${MODHYGIENE_ONLINE:-}
if [ -n "$online" ]; then
	# p2: the same after bumping one dependency of the first module to its
	# next release, and nothing else (go get would also move the modules the
	# new release requires: that is several bumps).
	cp -r "$work/p1" "$work/p2"
	cur=$(cd "$work/p2/m0" && go list -m -f '{{.Version}}' "$bump")
	next=$(cd "$work/p2/m0" && go list -m -versions -f '{{range .Versions}}{{.}} {{end}}' "$bump" | tr ' ' '\n' | grep -A1 -x -F "$cur" | sed -n 2p)
	# The latest already? Then the release before it: the same amount changes.
	[ -n "$next" ] || next=$(cd "$work/p2/m0" && go list -m -versions -f '{{range .Versions}}{{.}} {{end}}' "$bump" | tr ' ' '\n' | grep -B1 -x -F "$cur" | sed -n 1p)
	[ "$next" != "$cur" ] && [ -n "$next" ] || { echo "bench-cache: no other release of $bump than $cur" >&2; exit 1; }
	(cd "$work/p2/m0" &&
		go mod edit -require="$bump@$next" &&
		grep -v -F "$bump $cur" go.sum >go.sum.new && mv go.sum.new go.sum &&
		GOMODCACHE=$c1 go mod download "$bump@$next")
	echo "bump: $bump $cur => $next in the first module, nothing else"
fi

# Each run times the baseline (tar | zstd -T0 -3 and back, of the same
# pruned cache) and modhygiene in turn, after the same preparation, so that
# both meet the same file system and the same load from other processes.
# Restores go into new directories, deleted only after the runs of a shard
# count and followed by a pause: ext4 skips the inodes freed in the last
# half minute when it allocates new ones, which would make a restore right
# after a deletion pay for the deletion.
printf '%-7s %8s %8s %6s %10s %8s %6s %9s %9s %7s\n' shards save_s tar_s ratio restore_s untar_s ratio full_MiB bump_MiB bump_%
for n in $shards; do
	ss=(); rs=(); ts=(); tr=()
	for k in $(seq "$runs"); do
		rm -f "$work/base.tar.zst"; settle
		t=$(now); tar -C "$c1" -cf - . | zstd -q -T0 -3 -f -o "$work/base.tar.zst"; ts+=("$(since "$t")")
		fresh "$work/st"; settle
		t=$(now); GOMODCACHE=$c1 "$mh" cache save --shards "$n" --dir "$work/p1" --store "file://$work/st" >/dev/null; ss+=("$(since "$t")")
		mkdir -p "$work/out/tar$k"; settle
		t=$(now); zstd -q -d -T0 -c "$work/base.tar.zst" | tar -C "$work/out/tar$k" -xf -; tr+=("$(since "$t")")
		settle
		t=$(now); GOMODCACHE=$work/out/mh$k "$mh" cache restore --shards "$n" --dir "$work/p1" --store "file://$work/st" >/dev/null; rs+=("$(since "$t")")
	done
	fresh "$work/out"; sleep 35
	bbytes=$(stat -c %s "$work/base.tar.zst")
	full=$(cat "$work/st"/* | wc -c)
	bumpmb=- bumppct=-
	if [ -n "$online" ]; then
		GOMODCACHE=$c1 "$mh" cache save --shards "$n" --dir "$work/p2" --store "file://$work/st" >/dev/null
		delta=$(($(cat "$work/st"/* | wc -c) - full))
		bumpmb=$(mb "$delta")
		bumppct=$(echo "scale=1; 100 * $delta / $full" | bc -l)
	fi
	s=$(min "${ss[@]}"); r=$(min "${rs[@]}"); tsave=$(min "${ts[@]}"); trest=$(min "${tr[@]}")
	printf '%-7s %8.2f %8.2f %6.2f %10.2f %8.2f %6.2f %9.1f %9s %7s\n' "$n" "$s" "$tsave" "$(ratio "$s" "$tsave")" "$r" "$trest" "$(ratio "$r" "$trest")" "$(mb "$full")" "$bumpmb" "$bumppct"
done
echo "tar | zstd -T0 -3 archive: $(mb "$bbytes") MiB"
if [ -n "$online" ]; then
	echo "bump_MiB is what the save after the bump wrote (the changed shards and the manifest)"
	fresh "$work/st"
	GOMODCACHE=$c1 "$mh" cache save --dir "$work/p1" --store "file://$work/st" >/dev/null
	cs=(); crs=()
	for k in $(seq "$runs"); do
		settle
		t=$(now)
		for d in "$work"/p1/m*; do (cd "$d" && GOMODCACHE=$work/out/cold$k go mod download); done
		cs+=("$(since "$t")")
		settle
		t=$(now); GOMODCACHE=$work/out/mh$k "$mh" cache restore --dir "$work/p1" --store "file://$work/st" >/dev/null; crs+=("$(since "$t")")
	done
	fresh "$work/out"
	cold=$(min "${cs[@]}"); r=$(min "${crs[@]}")
	printf 'cold go mod download %.2fs (module zips only), cache restore %.2fs (zips and extracted trees): restore takes %.2f of the download time\n' "$cold" "$r" "$(ratio "$r" "$cold")"
else
	echo "bump and cold download skipped: set MODHYGIENE_ONLINE=1 (they reach the module proxy)"
fi
echo "load after: $(uptime)"

#!/usr/bin/env bash
# Time and peak memory of `modhygiene vuln` against the govulncheck command
# of the same golang.org/x/vuln version, on the same module and the same
# database, side by side. Runs alternate between the two tools; the medians
# and their ratios (modhygiene / govulncheck; the target is at most 1.1 for
# both) are printed at the end.
#
# Usage: scripts/bench-vuln.sh [MODULE@VERSION] [RUNS]
#
# The default module has a large graph. Its source is copied out of the
# module cache; the database is built once by `modhygiene vuln --db module`
# (golang.org/x/vulndb through GOPROXY) and both tools read it as file://.
# Everything lands in a temporary directory that is removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-github.com/golangci/golangci-lint/v2@v2.15.0}
runs=${2:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-vuln.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

timev=/usr/bin/time
if ! "$timev" -v true 2>/dev/null; then
	echo "bench-vuln: needs GNU time at /usr/bin/time (apt-get install time)" >&2
	exit 1
fi

vulnver=$(cd "$root" && go list -m -f '{{.Version}}' golang.org/x/vuln)
echo "golang.org/x/vuln $vulnver; module $target; $runs runs each"
(cd "$work" && GOBIN="$work/bin" GOFLAGS= go install "golang.org/x/vuln/cmd/govulncheck@$vulnver")
(cd "$root" && go build -o "$work/bin/modhygiene" ./cmd/modhygiene)

src=$(cd "$work" && GOFLAGS= go mod download -json "$target" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "bench-vuln: cannot download $target" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && go mod download)

export XDG_CACHE_HOME="$work/cache"
# Build the database once (and warm the go command's caches).
"$work/bin/modhygiene" vuln --dir "$work/src" --db module --scan module --fail-on never --format json "$work/src" >/dev/null 2>"$work/db.err" ||
	{ cat "$work/db.err" >&2; exit 1; }
db=$(ls -d "$work"/cache/modhygiene/vulndb/v*)
dburl="file://$db"
echo "database: $(basename "$db") ($(ls "$db/ID" | wc -l) entries)"
"$work/bin/govulncheck" -C "$work/src" -db "$dburl" -format json ./... >/dev/null

# field FILE NAME prints the value of a `time -v` line.
field() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }
# seconds converts [h:]m:ss.ss to seconds.
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f\n", s }'; }

for i in $(seq "$runs"); do
	"$timev" -v -o "$work/gv.$i" "$work/bin/govulncheck" -C "$work/src" -db "$dburl" -format json ./... >"$work/gv.$i.json"
	"$timev" -v -o "$work/mh.$i" "$work/bin/modhygiene" vuln --dir "$work/src" --db "$dburl" --format json --fail-on never "$work/src" >"$work/mh.$i.json" 2>"$work/mh.$i.err"
	for t in gv mh; do
		field "$work/$t.$i" 'Elapsed (wall clock) time (h:mm:ss or m:ss)' | seconds >"$work/$t.$i.s"
		field "$work/$t.$i" 'Maximum resident set size (kbytes)' >"$work/$t.$i.kb"
		awk -v u="$(field "$work/$t.$i" 'User time (seconds)')" -v s="$(field "$work/$t.$i" 'System time (seconds)')" \
			'BEGIN { printf "%.2f\n", u + s }' >"$work/$t.$i.cpu"
	done
	printf 'run %d: govulncheck %6ss (cpu %6ss) %6d MiB   modhygiene %6ss (cpu %6ss) %6d MiB\n' "$i" \
		"$(cat "$work/gv.$i.s")" "$(cat "$work/gv.$i.cpu")" "$(($(cat "$work/gv.$i.kb") / 1024))" \
		"$(cat "$work/mh.$i.s")" "$(cat "$work/mh.$i.cpu")" "$(($(cat "$work/mh.$i.kb") / 1024))"
done

# Wall time on a shared machine is noisy: the median and the minimum of the
# wall times, and the median CPU time (user + system), are all shown.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { sort -n | head -1; }
gvs=$(cat "$work"/gv.*.s | median); mhs=$(cat "$work"/mh.*.s | median)
gvmin=$(cat "$work"/gv.*.s | minimum); mhmin=$(cat "$work"/mh.*.s | minimum)
gvcpu=$(cat "$work"/gv.*.cpu | median); mhcpu=$(cat "$work"/mh.*.cpu | median)
gvkb=$(cat "$work"/gv.*.kb | median); mhkb=$(cat "$work"/mh.*.kb | median)
echo
printf '%-12s %14s %12s %14s %15s\n' tool 'median wall s' 'min wall s' 'median cpu s' 'median peak MiB'
printf '%-12s %14s %12s %14s %15d\n' govulncheck "$gvs" "$gvmin" "$gvcpu" "$((${gvkb%.*} / 1024))"
printf '%-12s %14s %12s %14s %15d\n' modhygiene "$mhs" "$mhmin" "$mhcpu" "$((${mhkb%.*} / 1024))"
awk -v a="$mhs" -v b="$gvs" -v am="$mhmin" -v bm="$gvmin" -v ac="$mhcpu" -v bc="$gvcpu" -v c="$mhkb" -v d="$gvkb" \
	'BEGIN { printf "ratio modhygiene/govulncheck: wall %.2f (min %.2f), cpu %.2f, peak memory %.2f (target <= 1.10)\n", a / b, am / bm, ac / bc, c / d }'
if command -v jq >/dev/null; then
	# The vulnerabilities whose functions are called must be the same.
	jq -r 'select(.finding) | select(.finding.trace[0].function) | .finding.osv' "$work/gv.1.json" | sort -u >"$work/called.gv"
	jq -r 'select(.finding) | select(.finding.severity == "error") | .finding.subject' "$work/mh.1.json" | sort -u >"$work/called.mh"
	if cmp -s "$work/called.gv" "$work/called.mh"; then same=same; else same=DIFFERENT; fi
	echo "called: govulncheck $(wc -l <"$work/called.gv") IDs, modhygiene $(wc -l <"$work/called.mh") errors: $same"
fi

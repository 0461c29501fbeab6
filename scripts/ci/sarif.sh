#!/usr/bin/env bash
# Validates the SARIF that modhygiene writes with the official SARIF
# multitool (@microsoft/sarif-multitool from the npm registry).
#
#   bash scripts/ci/sarif.sh
#
# Builds the binary, renders every recorded stream under
# internal/report/testdata/streams as SARIF (`modhygiene report --from F
# --format sarif`), runs `sarif-multitool validate` on each and fails when the
# validator reports an error (its warnings and notes are printed, not fatal;
# the tool itself exits 0 either way, so its output log is read).
# Idempotent: the tool is installed once into a directory outside the work
# tree. When node or npm is missing or the install fails, it says so and
# exits 0; the SARIF fields are still asserted by `go test ./internal/report`.
set -u
cd "$(dirname "$0")/../.."
dir="${MH_SARIF_DIR:-${TMPDIR:-/tmp}/modhygiene-sarif-multitool}"
say() { echo "sarif.sh: $*" >&2; }

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	say "npm or node not found; skipping SARIF validation (go test asserts the required fields)"
	exit 0
fi
mkdir -p "$dir"
tool="$dir/node_modules/.bin/sarif-multitool"
if [ ! -x "$tool" ]; then
	say "installing @microsoft/sarif-multitool into $dir"
	if ! (cd "$dir" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool@5 >&2); then
		say "npm install @microsoft/sarif-multitool failed; skipping SARIF validation"
		exit 0
	fi
fi
if ! "$tool" --version >/dev/null 2>&1; then
	say "sarif-multitool does not run on this machine; skipping SARIF validation"
	exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/modhygiene" ./cmd/modhygiene || exit 1

# count_errors LOG prints the validator's results on stderr and the number
# of errors on stdout.
count_errors() {
	node -e '
		const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const rs = (log.runs || []).flatMap(r => r.results || []);
		for (const r of rs) console.error(`  ${r.level || "warning"} ${r.ruleId}: ${((r.message && (r.message.text || r.message.id)) || "").slice(0, 160)}`);
		console.log(rs.filter(r => (r.level || "warning") === "error").length);
	' "$1"
}

# The check must be able to fail: a log without a result message is refused.
printf '%s' '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"X"}]}]}' >"$work/broken.sarif"
"$tool" validate "$work/broken.sarif" --output "$work/broken.validation.sarif" >/dev/null 2>&1
if [ "$(count_errors "$work/broken.validation.sarif" 2>/dev/null)" = "0" ] || [ ! -s "$work/broken.validation.sarif" ]; then
	say "the validator did not flag a broken log; cannot trust it"
	exit 1
fi

fail=0
n=0
for stream in internal/report/testdata/streams/*.json; do
	name="$(basename "$stream" .json)"
	sarif="$work/$name.sarif"
	# Exit 3 says the stream records a failure (MH000): the SARIF is
	# written all the same.
	"$work/modhygiene" report --from "$stream" --format sarif --fail-on never --ci-report off >"$sarif"
	code=$?
	if [ "$code" != 0 ] && [ "$code" != 3 ]; then
		say "$name: modhygiene report exited $code"
		fail=1
		continue
	fi
	"$tool" validate "$sarif" --output "$work/$name.validation.sarif" >"$work/$name.log" 2>&1
	errors="$(count_errors "$work/$name.validation.sarif")" || { say "$name: cannot read the validator's log"; tail -20 "$work/$name.log" >&2; fail=1; continue; }
	n=$((n + 1))
	if [ "$errors" != "0" ]; then
		say "$name: $errors validation errors"
		fail=1
	else
		say "$name: valid SARIF 2.1.0"
	fi
done
if [ "$fail" != 0 ]; then
	say "FAIL"
	exit 1
fi
echo "sarif: $n passed, 0 failed"

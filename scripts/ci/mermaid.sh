#!/usr/bin/env bash
# Installs the real Mermaid library (npm mermaid, with jsdom for a DOM under
# node) into a directory outside the work tree, so that internal/report's
# TestMermaid parses and renders every diagram the job summary and the
# merge-request note draw.
#
#   eval "$(bash scripts/ci/mermaid.sh)"
#   # prints: export MODHYGIENE_MERMAID=DIR [MODHYGIENE_NODE=PATH]
#
# Idempotent: an existing install is reused. The install is checked by
# rendering one diagram with internal/report/testdata/mermaid/render.mjs;
# when the system's node cannot run it, node 24 is installed from the npm
# registry (package node) beside it and named in MODHYGIENE_NODE. When npm
# or node is missing, or nothing works, it says so on stderr, prints nothing
# on stdout and exits 0: TestMermaid then skips, and the escaping is still
# asserted by the tests that need no node.
set -u
cd "$(dirname "$0")/../.."
repo="$(pwd)"
dir="${MH_MERMAID_DIR:-${TMPDIR:-/tmp}/modhygiene-mermaid}"
say() { echo "mermaid.sh: $*" >&2; }

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	say "npm or node not found; TestMermaid skips"
	exit 0
fi
mkdir -p "$dir"
if [ ! -f "$dir/node_modules/mermaid/package.json" ] || [ ! -f "$dir/node_modules/jsdom/package.json" ]; then
	say "installing mermaid and jsdom into $dir"
	[ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
	if ! (cd "$dir" && npm install --no-audit --no-fund --silent mermaid@11 jsdom@26 >&2); then
		say "npm install mermaid jsdom failed; TestMermaid skips"
		exit 0
	fi
fi

# works NODE: renders a probe diagram with NODE.
works() {
	probe="$(mktemp)"
	printf 'graph LR\n  n0["probe"] --> n1["ok"]\n' >"$probe"
	out="$(cd "$dir" && timeout 120 "$1" --input-type=module - "$probe" <"$repo/internal/report/testdata/mermaid/render.mjs" 2>/dev/null)"
	rm -f "$probe"
	case "$out" in *'"ok":true'*) return 0 ;; esac
	return 1
}

if works node; then
	echo "export MODHYGIENE_MERMAID=$dir"
	exit 0
fi
node24="$dir/node24/node_modules/.bin/node"
if [ ! -x "$node24" ]; then
	say "the system's node ($(node --version)) cannot run mermaid; installing node 24 from the npm registry"
	mkdir -p "$dir/node24"
	[ -f "$dir/node24/package.json" ] || echo '{"private": true}' >"$dir/node24/package.json"
	(cd "$dir/node24" && npm install --no-audit --no-fund --silent node@24 >&2) || true
fi
if [ -x "$node24" ] && works "$node24"; then
	echo "export MODHYGIENE_MERMAID=$dir MODHYGIENE_NODE=$node24"
	exit 0
fi
say "mermaid does not run on this machine; TestMermaid skips"
exit 0

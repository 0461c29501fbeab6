#!/usr/bin/env bash
# Installs the real @actions/cache client (from the npm registry) into a
# directory outside the work tree, so that a test drives it against the Go
# fake of the Actions cache service (internal/cache/store/github/githubtest)
# through its Azure SDK download path.
#
#   eval "$(bash scripts/ci/actions-cache.sh)"   # prints: export MH_ACTIONS_CACHE_JS=/.../lib/cache.js
#
# Idempotent. When npm or node is missing, or the install fails, it says so
# on stderr, prints nothing on stdout and exits 0: the test is then skipped.
set -u
dir="${MH_ACTIONS_CACHE_DIR:-${TMPDIR:-/tmp}/modhygiene-actions-cache}"
version="${MH_ACTIONS_CACHE_VERSION:-6}"
js="$dir/node_modules/@actions/cache/lib/cache.js"

say() { echo "actions-cache.sh: $*" >&2; }

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	say "npm or node not found; the real-client test is skipped"
	exit 0
fi
if [ ! -f "$js" ]; then
	mkdir -p "$dir"
	say "installing @actions/cache@$version into $dir"
	if ! (cd "$dir" && npm install --no-audit --no-fund --silent "@actions/cache@$version" >&2); then
		say "npm install @actions/cache failed; the real-client test is skipped"
		exit 0
	fi
fi
say "@actions/cache $(node -p "require('$dir/node_modules/@actions/cache/package.json').version") in $dir"
echo "export MH_ACTIONS_CACHE_JS=$js"

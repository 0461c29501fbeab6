#!/usr/bin/env bash
# The pre-commit door, tested as a user meets it: pre-commit from Debian's package runs this
# checkout's hooks (.pre-commit-hooks.yaml, language golang: pre-commit runs `go install ./...`
# of the checkout) on fixture repositories with `pre-commit try-repo`:
#   - modhygiene-tidy passes on a tidy repository and fails on one with an untidy module,
#     writing nothing;
#   - modhygiene-tidy-fix fixes it (and fails as a modifying hook does), after which the check
#     passes;
#   - modhygiene-check passes on the tidy repository (when this checkout has the check command).
# The fixtures need no network: their only requirement is a module replaced by a local directory.
# Installing the hooks fetches this module's own dependencies through the configured module proxy.
#
# Idempotent; exits 0 with a message when pre-commit, go or git cannot be had.
# MODHYGIENE_HOOK_REPO overrides the hook repository (default: this checkout).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
hook_repo=${MODHYGIENE_HOOK_REPO:-$here}

skip() {
	echo "precommit.sh: skipped: $*"
	exit 0
}

if ! command -v pre-commit >/dev/null 2>&1; then
	sudo=
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=sudo
		else
			skip "pre-commit is not installed and this user cannot run apt-get"
		fi
	fi
	command -v apt-get >/dev/null 2>&1 || skip "pre-commit is not installed and there is no apt-get"
	echo "precommit.sh: installing pre-commit from Debian's packages"
	$sudo apt-get update -qq >/dev/null || skip "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq pre-commit >/dev/null ||
		skip "apt-get install pre-commit failed"
fi
command -v go >/dev/null 2>&1 || skip "go is not on PATH"
command -v git >/dev/null 2>&1 || skip "git is not on PATH"
echo "precommit.sh: $(pre-commit --version), $(go version)"

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# pre-commit installs golang hooks with GOPATH in its own environment directory: keep the
# existing module and build caches so the install does not download and compile from scratch,
# and keep modhygiene's own cache (the tidy memo) out of the user's.
GOMODCACHE=$(go env GOMODCACHE)
GOCACHE=$(go env GOCACHE)
export GOMODCACHE GOCACHE
export XDG_CACHE_HOME="$work/cache"
export GOFLAGS=
export NO_COLOR=1
export GIT_CONFIG_GLOBAL="$work/gitconfig"
git config --global user.name fixture
git config --global user.email fixture@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

passed=0
fail() {
	echo "precommit.sh: FAIL: $*"
	echo "precommit.sh: $passed passed, 1 failed"
	exit 1
}
pass() {
	passed=$((passed + 1))
	echo "precommit.sh: ok: $*"
}

# write FILE <<EOF writes a fixture file.
write() {
	mkdir -p "$(dirname "$1")"
	cat >"$1"
}

# fixture DIR [untidy] creates a git repository with a tidy module app/ and a library lib/,
# plus, with "untidy", a module svc/ whose go.mod requires lib without importing it.
fixture() {
	local dir=$1
	mkdir -p "$dir"
	write "$dir/app/go.mod" <<'GOMOD'
module example.com/app

go 1.21
GOMOD
	write "$dir/app/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("app") }
GO
	write "$dir/lib/go.mod" <<'GOMOD'
module example.com/lib

go 1.21
GOMOD
	write "$dir/lib/lib.go" <<'GO'
// Package lib is a library.
package lib

// Name is a name.
const Name = "lib"
GO
	if [ "${2:-}" = untidy ]; then
		write "$dir/svc/go.mod" <<'GOMOD'
module example.com/svc

go 1.21

require example.com/lib v0.0.0

replace example.com/lib => ../lib
GOMOD
		write "$dir/svc/main.go" <<'GO'
package main

func main() {}
GO
	fi
	git -C "$dir" init -q
	git -C "$dir" add -A
	git -C "$dir" commit -q -m fixture
}

# try HOOK DIR runs the hook from the hook repository on every file of DIR; its output is in
# $work/out and its exit status in $status.
try() {
	local hook=$1 dir=$2
	echo "precommit.sh: pre-commit try-repo $hook in $(basename "$dir")"
	set +e
	(cd "$dir" && pre-commit try-repo "$hook_repo" "$hook" --all-files --verbose) >"$work/out" 2>&1
	status=$?
	set -e
	sed 's/^/    /' "$work/out"
}

fixture "$work/tidy"
fixture "$work/untidy" untidy
before=$(git -C "$work/untidy" rev-parse HEAD:svc/go.mod)

try modhygiene-tidy "$work/tidy"
[ "$status" = 0 ] || fail "modhygiene-tidy failed on a tidy repository (status $status)"
pass "modhygiene-tidy passes on a tidy repository"

try modhygiene-tidy "$work/untidy"
[ "$status" != 0 ] || fail "modhygiene-tidy passed on an untidy module"
grep -q 'svc/go.mod' "$work/out" || fail "modhygiene-tidy did not name svc/go.mod"
if grep -q 'files were modified by this hook' "$work/out" || [ -n "$(git -C "$work/untidy" status --porcelain)" ]; then
	fail "modhygiene-tidy (a check) changed files"
fi
pass "modhygiene-tidy fails on an untidy module, naming it, and changes nothing"

try modhygiene-tidy-fix "$work/untidy"
[ "$status" != 0 ] || fail "modhygiene-tidy-fix did not report that it modified files"
grep -q 'files were modified by this hook' "$work/out" || fail "modhygiene-tidy-fix: pre-commit saw no modification"
[ "$(git -C "$work/untidy" hash-object svc/go.mod)" != "$before" ] || fail "svc/go.mod is unchanged"
if grep -q '^require' "$work/untidy/svc/go.mod"; then
	fail "svc/go.mod still requires the unused module: $(cat "$work/untidy/svc/go.mod")"
fi
git -C "$work/untidy" add -A
pass "modhygiene-tidy-fix fixes the untidy module"

try modhygiene-tidy "$work/untidy"
[ "$status" = 0 ] || fail "modhygiene-tidy failed after the fix (status $status)"
pass "modhygiene-tidy passes after the fix"

if (cd "$hook_repo" && go run ./cmd/modhygiene help 2>/dev/null) | grep -q '^[[:space:]]*check[[:space:]]'; then
	try modhygiene-check "$work/tidy"
	[ "$status" = 0 ] || fail "modhygiene-check failed on a clean repository (status $status)"
	pass "modhygiene-check passes on a clean repository"
else
	echo "precommit.sh: modhygiene-check not tried: this checkout has no check command yet"
fi

echo "precommit.sh: $passed passed, 0 failed"

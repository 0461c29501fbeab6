#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator, from the npm registry) into a
# directory outside the work tree and starts its blob service on loopback, so
# that the github cache store's tests upload and download real Azure blobs.
#
#   eval "$(bash scripts/ci/azurite.sh)"   # prints: export MH_AZURITE_URL=http://127.0.0.1:PORT
#
# Idempotent: an Azurite already answering on the port is reused. When npm or
# node is missing, or the install fails, it says so on stderr, prints nothing
# on stdout and exits 0: the tests then use their pure-Go fake blob endpoint.
set -u
dir="${MH_AZURITE_DIR:-${TMPDIR:-/tmp}/modhygiene-azurite}"
port="${MH_AZURITE_PORT:-10000}"
url="http://127.0.0.1:${port}"

say() { echo "azurite.sh: $*" >&2; }

up() { curl -s -o /dev/null --max-time 2 "${url}/devstoreaccount1?comp=list" 2>/dev/null; }

if up; then
	echo "export MH_AZURITE_URL=${url}"
	exit 0
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	say "npm or node not found; the github store tests use the pure-Go blob fake"
	exit 0
fi
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/azurite-blob" ]; then
	say "installing azurite into $dir"
	if ! (cd "$dir" && npm install --no-audit --no-fund --silent azurite@3 >&2); then
		say "npm install azurite failed; the github store tests use the pure-Go blob fake"
		exit 0
	fi
fi
mkdir -p "$dir/data"
nohup "$dir/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
	--location "$dir/data" --skipApiVersionCheck --loose >"$dir/azurite.log" 2>&1 &
echo $! >"$dir/azurite.pid"
for _ in $(seq 1 50); do
	if up; then
		say "azurite blob service on ${url} (pid $(cat "$dir/azurite.pid"))"
		echo "export MH_AZURITE_URL=${url}"
		exit 0
	fi
	sleep 0.2
done
say "azurite did not start; see $dir/azurite.log; the github store tests use the pure-Go blob fake"
exit 0

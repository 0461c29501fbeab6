#!/bin/sh
# bench-mirrors.sh: the benchmarks of issue 5, on loopback only.
#
#   BenchmarkProbe/six-two-hang   six candidates, two never answer:
#                                 worst-ms must stay within bound-ms (timeout + 200ms)
#   BenchmarkProbe/six-healthy    six healthy candidates, slowest 150ms:
#                                 worst-ms within bound-ms (slowest + 200ms)
#   BenchmarkLoopbackDownload     cold `go mod download` of a 100-module graph through a
#                                 150ms mirror (slow-ms) and through the chain chosen
#                                 among it and a 10ms mirror (chain-ms); ratio = slow/chain
set -eu
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkProbe' -benchtime "${PROBE_RUNS:-5}x" ./internal/mirror
go test -run '^$' -bench 'BenchmarkLoopbackDownload' -benchtime 1x -timeout 10m ./internal/mirror

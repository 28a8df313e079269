#!/usr/bin/env bash
# Benchmarks abusesim's load generator against vegeta and wrk on the same
# trivial loopback server, in one run, and prints the figures that
# docs/performance.md reports. Everything it installs goes to a temporary
# folder (vegeta) or through apt (wrk); nothing is committed.
#
#   target/bench/run.sh                 # every experiment, full lengths (~15 min)
#   target/bench/run.sh -exp throughput # one experiment; other flags: go run ./target/bench -h
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-}" in
-h | -help | --help)
	# Help installs nothing: the flags are the Go program's.
	echo "usage: target/bench/run.sh [flags]   (installs wrk and vegeta, builds, runs every experiment)"
	exec go run ./target/bench -h
	;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
GOBIN="$tmp/bin" go install github.com/tsenart/vegeta/v12@v12.13.0
go build -o "$tmp/abusesim" ./cmd/abusesim
go build -o "$tmp/server" ./target/bench/server

go run ./target/bench -abusesim "$tmp/abusesim" -server "$tmp/server" \
	-vegeta "$tmp/bin/vegeta" -wrk "$(command -v wrk)" "$@"

#!/bin/sh
# Compiles the Erlang agent (agents/erlang/src/*.erl) into agents/erlang/ebin/.
# Build with the oldest supported OTP (25): BEAM files load on the release that
# built them and later ones, not earlier. The extension falls back to compiling
# the shipped source on the target when a BEAM does not load.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/agents/erlang/src"
ebin="$root/agents/erlang/ebin"
if ! command -v erlc >/dev/null 2>&1; then
  echo "build-erlang-agent: erlc not found (install Erlang/OTP 25)" >&2
  exit 1
fi
mkdir -p "$ebin"
rm -f "$ebin"/*.beam
erlc +deterministic +warnings_as_errors -o "$ebin" "$src"/*.erl
echo "build-erlang-agent: $(ls "$ebin" | wc -l) modules in $ebin (OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().'))"

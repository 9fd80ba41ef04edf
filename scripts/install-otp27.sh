#!/usr/bin/env bash
# Unpacks Erlang/OTP 27 from Debian 13's packages into .tools/otp27, so the tests can run a
# node that has trace sessions (trace:session_create/3) on a Debian 12 machine, whose own
# erlang-nox is OTP 25. Nothing is installed into the system: apt reads Debian 13's package
# list into a private directory, downloads the .deb files, and they are unpacked here. The
# binaries are pointed at the C library unpacked beside them (patchelf), since Debian 13's
# build needs a newer one than Debian 12 has.
# Idempotent: a completed install leaves a marker and is not redone.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.tools/otp27"
MARKER="$DEST/.installed"
SUITE="${OTP27_DEBIAN_SUITE:-trixie}"
# erlang-runtime-tools has dbg, which bench/erlang-trace-bench.ts --otp 27 compares with.
PACKAGES=(erlang-base erlang-runtime-tools libc6 libgcc-s1 libstdc++6 libtinfo6 zlib1g libsystemd0 libcap2)

if [[ -f "$MARKER" ]]; then
  echo "OTP 27 already unpacked in $DEST"
  exit 0
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "install-otp27: '$1' is missing ($2)" >&2; exit 1; }; }
need apt-get "Debian's apt"
need dpkg "Debian's dpkg"
need patchelf "Debian package patchelf"

rm -rf "$DEST"
APT_DIR="$DEST/apt"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/debs" "$DEST/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" \
  > "$APT_DIR/sources.list"
APT_OPTIONS=(
  -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::Cache=$APT_DIR/cache"
  -o "Dir::State::Status=/dev/null"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)

echo "[otp27] reading Debian $SUITE's package list"
apt-get "${APT_OPTIONS[@]}" -qq update
echo "[otp27] downloading ${PACKAGES[*]}"
(cd "$APT_DIR/debs" && apt-get "${APT_OPTIONS[@]}" -qq download "${PACKAGES[@]}")
for deb in "$APT_DIR"/debs/*.deb; do dpkg -x "$deb" "$DEST/root"; done

ERLANG="$DEST/root/usr/lib/erlang"
LOADER="$DEST/root/usr/lib64/ld-linux-x86-64.so.2"
LIBS="$DEST/root/usr/lib/x86_64-linux-gnu:$DEST/root/lib/x86_64-linux-gnu"
for binary in "$ERLANG"/erts-*/bin/*; do
  if [[ "$(head -c 4 "$binary" | od -An -c | tr -d ' ')" == '177ELF' ]]; then
    patchelf --set-interpreter "$LOADER" --set-rpath "$LIBS" "$binary"
  fi
done
# The start scripts name their installation directory; this one lives here.
sed -i "s#ROOTDIR=/usr/lib/erlang#ROOTDIR=$ERLANG#" "$ERLANG/bin/erl" "$ERLANG"/erts-*/bin/erl
rm -rf "$APT_DIR"

RELEASE="$("$ERLANG/bin/erl" -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')"
if [[ "$RELEASE" != 27 ]]; then
  echo "install-otp27: the unpacked erl reports OTP '$RELEASE', not 27" >&2
  exit 1
fi
touch "$MARKER"
echo "[otp27] OTP $RELEASE in $ERLANG/bin/erl"

#!/usr/bin/env bash
# Installs code-server (VS Code's workbench and Node extension host, from the npm
# registry) into .tools/code-server without any step that downloads from elsewhere.
# Desktop VS Code cannot be fetched on closed machines; code-server can.
# Idempotent: a completed install leaves a marker and is not redone.
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.tools/code-server"
MARKER="$DEST/.installed-$VERSION"

if [[ -f "$MARKER" ]]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "install-code-server: '$1' is missing ($2)" >&2; exit 1; }; }
need rg "Debian package ripgrep"
need g++ "Debian package g++ (native modules)"
[[ -f /usr/include/krb5.h || -f /usr/include/gssapi/gssapi.h ]] || {
  echo "install-code-server: Kerberos headers are missing (Debian package libkrb5-dev)" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
echo '{"name":"bathysphere-code-server","private":true}' > package.json

export npm_config_yes=true
# npm refuses lifecycle scripts as root unless told otherwise.
export npm_config_unsafe_perm=true

echo "[code-server] fetching code-server@$VERSION (scripts off)"
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION"

VSCODE="$DEST/node_modules/code-server/lib/vscode"
cd "$VSCODE"
echo "[code-server] installing the workbench's runtime modules"
npm install --no-audit --no-fund --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall downloads a binary; it skips when bin/ exists.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sfn "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
echo "[code-server] building native modules"
npm rebuild
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh
echo "[code-server] installing built-in extensions' modules"
(cd extensions && npm install --no-audit --no-fund --omit=dev)
cd "$DEST"
npm rebuild argon2

touch "$MARKER"
echo "code-server $VERSION installed in $DEST"

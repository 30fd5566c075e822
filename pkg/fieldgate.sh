#!/bin/sh
# fieldgate ships its own Node.js runtime so that the system's node (if any) never matters.
# --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 16 MiB per semi-space;
# the gateway's garbage is short-lived and small, and 1 MiB took 12 MiB off the demo's RSS on
# the bundled runtime (bench/footprint.mjs measures with these same flags).
exec /usr/lib/fieldgate/node/bin/node --max-semi-space-size=1 /usr/lib/fieldgate/app/dist/src/cli.js "$@"

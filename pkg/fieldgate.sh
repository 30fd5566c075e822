#!/bin/sh
# fieldgate ships its own Node.js runtime so that the system's node (if any) never matters.
# V8 heap settings for a small box (issue 15; bench/footprint.mjs runs the gateway with these
# same flags): --max-semi-space-size=1 (MiB) keeps the young generation at 1 MiB instead of
# growing to 16 MiB per semi-space, 12 MiB less demo RSS on the bundled runtime;
# --optimize-for-size makes V8 collect the old generation before growing it, which the many
# short-lived objects of polling promote into: 50 Modbus devices x 100 tags went from 128 to
# 83 MiB steady, the broker under its bench load from ~100-120 to ~76 MiB, rates within noise.
exec /usr/lib/fieldgate/node/bin/node --max-semi-space-size=1 --optimize-for-size /usr/lib/fieldgate/app/dist/src/cli.js "$@"

#!/bin/sh
# fieldgate ships its own Node.js runtime so that the system's node (if any) never matters.
# V8 heap settings for a small box (issue 15; bench/footprint.mjs runs the gateway with these
# same flags): --max-semi-space-size=1 (MiB) keeps the young generation at 1 MiB instead of
# growing to 16 MiB per semi-space, 12 MiB less demo RSS on the bundled runtime;
# --optimize-for-size makes V8 collect the old generation before growing it, which the many
# short-lived objects of polling promote into: 50 Modbus devices x 100 tags went from 128 to
# 83 MiB steady, the broker under its bench load from ~100-120 to ~76 MiB, rates within noise.
# --max-opt=2 stops at Maglev: TurboFan's code and the pages of the node binary it runs from
# cost 4-6 MiB RSS on every site (demo 82 -> 77 MiB, 50 Modbus x 100 tags 97 -> 91 MiB on Node
# 26); the broker stays 2.4-8.5x Mosquitto's rate in the same runs. --max-opt=1 (baseline code
# only) saves 5 MiB more but halves the broker's QoS 0 rate (~1.5x Mosquitto), so not that.
# MALLOC_ARENA_MAX=1: glibc gives each thread that mallocs (V8's GC and compiler workers, libuv's
# pool) its own arena, whose freed pages stay resident; one arena is 2-3 MiB less on the demo and
# on 50 Modbus devices, 3-10 MiB less for the broker under load, rates within the bench's noise.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
exec /usr/lib/fieldgate/node/bin/node --max-semi-space-size=1 --optimize-for-size --max-opt=2 /usr/lib/fieldgate/app/dist/src/cli.js "$@"

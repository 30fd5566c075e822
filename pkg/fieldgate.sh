#!/bin/sh
# fieldgate ships its own Node.js runtime so that the system's node (if any) never matters.
exec /usr/lib/fieldgate/node/bin/node /usr/lib/fieldgate/app/dist/src/cli.js "$@"

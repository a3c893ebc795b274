#!/bin/sh
# autogen.sh: regenerate the Autotools build system from a git checkout.
set -e
cd "$(dirname "$0")"
autoreconf --force --install --warnings=all "$@"
echo "Now run ./configure && make"

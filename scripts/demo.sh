#!/bin/bash
# The README's demo: installs what is missing, builds, and boots Debian's
# kernel in QEMU to show virthw's per-CPU table before, during and after a
# KVM VM.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	./autogen.sh
fi
mkdir -p build/release
(cd build/release && { [ -f Makefile ] || ../../configure --enable-werror; } && make -j"$(nproc)")
export BUILDDIR=$top/build/release
exec tests/vm/demo.sh "$@"

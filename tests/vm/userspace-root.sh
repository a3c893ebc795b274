#!/bin/bash
# Builds the userspace -Werror and runs its unit tests under ASan/UBSan in another Debian release's build root.
#
# Usage: tests/vm/userspace-root.sh [SUITE]   (default: trixie, Debian 13)
# The build root (buildroot.sh) has that release's compiler and libraries
# (Debian 13: gcc-14, libsystemd 257, its libnl, libkmod, inih, json-c, and
# dbus-daemon for the bus test).  The
# tracked files of the checkout are copied into tests/vm/out/userspace-SUITE/src
# (a clean tree: no build outputs of the host), built out of tree there, and
# each unit test's result is printed as "PASS|FAIL|SKIP unit-SUITE/NAME", then
# "N passed, N failed, N skipped".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

suite=${1:-trixie}
broot=$("$VM_DIR/buildroot.sh" "$suite" build-essential autoconf automake libtool pkg-config \
	libsystemd-dev libkmod-dev libnl-3-dev libnl-genl-3-dev libinih-dev libjson-c-dev dbus-daemon) ||
	die "no $suite build root (output above)"
work=$VM_OUT/userspace-$suite
rm -rf "$work"
mkdir -p "$work/src" "$work/build"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src") ||
	die "could not copy the checkout's files (is $REPO_ROOT a git checkout?)"
log "building in the $suite root: $(chroot "$broot" gcc --version | head -n1)"
rc=0
in_root "$broot" "$work" /bin/sh -ec '
	cd src && ./autogen.sh >../autogen.log 2>&1
	cd ../build && ../src/configure --enable-werror --enable-sanitizers >../configure.log 2>&1
	make -j'"$(nproc)"' >../make.log 2>&1
	make -j'"$(nproc)"' check >../check.log 2>&1' || rc=$?
passed=0 failed=0 skipped=0
for t in "$work"/build/tests/unit/*.trs; do
	[ -e "$t" ] || continue
	n=unit-$suite/$(basename "$t" .trs)
	case $(sed -n 's/^:test-result: //p' "$t" | head -n1) in
	PASS) echo "PASS $n"; passed=$((passed + 1)) ;;
	SKIP) echo "SKIP $n"; skipped=$((skipped + 1)) ;;
	*) echo "FAIL $n: see ${t%.trs}.log"; failed=$((failed + 1)) ;;
	esac
done
if grep -q 'warning:' "$work/make.log" 2>/dev/null; then
	echo "FAIL build-$suite: warnings (see $work/make.log)"
	failed=$((failed + 1))
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	f=$(ls -t "$work"/*.log | head -n1)
	echo "FAIL build-$suite: the build stopped (exit $rc); last lines of $f:"
	tail -n 15 "$f" | sed 's/^/    /'
	failed=$((failed + 1))
elif [ "$rc" -eq 0 ]; then
	echo "PASS build-$suite: $(chroot "$broot" gcc --version | head -n1)"
	passed=$((passed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

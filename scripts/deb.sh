#!/bin/bash
# Builds the Debian packages (dpkg-buildpackage -us -uc -b) on the host, Debian 12, and in a Debian 13 build root, checks what they hold and runs lintian on them.
#
# Usage: scripts/deb.sh [--out DIR] [SUITE...]
#   SUITE      bookworm (the host's own tools) and/or trixie (a build root
#              made once with mmdebstrap, tests/vm/buildroot.sh, with the
#              build dependencies of debian/control and that release's
#              lintian); default: both
#   --out DIR  where the packages go (default: tests/vm/out/deb):
#              DIR/SUITE/virtd_VERSION_ARCH.deb and virthw-dkms_VERSION_all.deb
# Each build starts from a copy of the checkout's files in DIR/SUITE/src, so
# the tree stays clean and dpkg-buildpackage's ../ is DIR/SUITE.  The build
# runs the unit tests (dh_auto_test) unless DEB_BUILD_OPTIONS says nocheck.
# Prints "PASS|FAIL deb-SUITE/CHECK" lines, then "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../tests/vm/common.sh
. "$top/tests/vm/common.sh"

out=$VM_OUT/deb
suites=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--out=?*) out=${1#--out=}; shift ;;
	bookworm | trixie) suites+=("$1"); shift ;;
	-h | --help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (usage: scripts/deb.sh [--out DIR] [bookworm] [trixie])" ;;
	esac
done
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
mkdir -p "$out"
out=$(cd "$out" && pwd)

passed=0 failed=0
result() {	# result PASS|FAIL NAME [DETAIL]
	printf '%s %s%s\n' "$1" "$2" "${3:+: $3}"
	case $1 in PASS) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
}
check() {	# check NAME DETAIL-IF-PASS COMMAND...: PASS when COMMAND succeeds, FAIL with its output
	local name=$1 detail=$2 msg
	shift 2
	if msg=$("$@" 2>&1); then
		result PASS "$name" "$detail"
	else
		result FAIL "$name" "$(tr '\n' ';' <<<"$msg" | cut -c1-400)"
	fi
}

# The version every part must agree on: debian/changelog's (a native
# package: no Debian revision), configure.ac's AC_INIT, kmod/dkms.conf's.
deb_version=$(cd "$top" && dpkg-parsechangelog -SVersion)
ac_version=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/kmod/dkms.conf")
versions_agree() {
	[ "$deb_version" = "$ac_version" ] && [ "$deb_version" = "$dkms_version" ] && return 0
	echo "debian/changelog says $deb_version, configure.ac $ac_version, kmod/dkms.conf $dkms_version: make them the same"
	return 1
}

# The packages debian/control's Build-Depends name (the first of each
# alternative), for the build root.
build_depends() {
	perl -MDpkg::Control::Info -MDpkg::Deps -e '
		my $src = Dpkg::Control::Info->new("debian/control")->get_source;
		my $deps = deps_parse($src->{"Build-Depends"}, build_dep => 1, reduce_arch => 1);
		for my $or ($deps->get_deps) {
			my ($first) = $or->isa("Dpkg::Deps::Simple") ? ($or) : $or->get_deps;
			print $first->{package}, "\n";
		}' 2>&1
}

# A copy of the checkout's files (tracked and new, not ignored): no build
# outputs of the host go into the package.
export_tree() {	# export_tree DIR
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t "$1")
}

# What the virtd package must hold, as dpkg -c prints it (the unit's
# directory is the release's: /lib/systemd/system on 12, /usr/lib/ on 13).
VIRTD_FILES=(
	./etc/virtd.conf ./usr/sbin/virtd ./usr/bin/virtctl ./usr/libexec/virtd/virtd-kmod
	'./(usr/)?lib/systemd/system/virtd.service' ./usr/lib/systemd/system/virtd-kmod.socket
	./usr/lib/systemd/system/virtd-kmod@.service ./usr/share/dbus-1/system.d/org.virtd1.conf
	./usr/share/polkit-1/actions/org.virtd1.policy ./usr/share/polkit-1/rules.d/60-virtd-vboxusers.rules
	./usr/share/bash-completion/completions/virtctl
	./usr/share/man/man8/virtd.8.gz ./usr/share/man/man8/virtctl.8.gz
	./usr/share/man/man5/virtd.conf.5.gz ./usr/share/man/man5/virtd-profiles.5.gz ./usr/share/man/man4/virthw.4.gz
	./usr/share/virtd/profiles/virtualbox.conf ./usr/share/virtd/profiles/vmware.conf
	./usr/share/virtd/profiles/generic.conf
	./usr/share/doc/virtd/copyright
)
check_virtd_deb() {	# check_virtd_deb DEB
	local list f bad=0
	list=$(dpkg-deb -c "$1" | awk '{print $6}')
	for f in "${VIRTD_FILES[@]}"; do
		grep -qxE "$f" <<<"$list" || { echo "$f missing"; bad=1; }
	done
	[ "$(dpkg-deb -f "$1" Architecture)" != all ] || { echo "virtd is Architecture: all"; bad=1; }
	dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles 2>/dev/null | grep -qx /etc/virtd.conf ||
		{ echo "/etc/virtd.conf is not a conffile"; bad=1; }
	return $bad
}

# virthw-dkms: exactly kmod/'s module sources (what git tracks in kmod/
# but its README) and dkms.conf, in /usr/src/virthw-VERSION.
check_dkms_deb() {	# check_dkms_deb DEB
	local want got conf bad=0
	want=$(cd "$top/kmod" && git ls-files | grep -vx README.md | sort)
	got=$(dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sed -n "s|^\./usr/src/virthw-$dkms_version/||p" | sort)
	[ "$want" = "$got" ] || { echo "usr/src/virthw-$dkms_version differs from kmod/: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"; bad=1; }
	[ "$(dpkg-deb -f "$1" Architecture)" = all ] || { echo "not Architecture: all"; bad=1; }
	dpkg-deb -f "$1" Depends | grep -qw dkms || { echo "does not depend on dkms"; bad=1; }
	conf=$(dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/virthw-$dkms_version/dkms.conf")
	for f in 'BUILT_MODULE_NAME\[0\]="virthw"' 'DEST_MODULE_LOCATION\[0\]=' 'AUTOINSTALL="yes"' "PACKAGE_VERSION=\"$dkms_version\""; do
		grep -q "^$f" <<<"$conf" || { echo "dkms.conf has no $f"; bad=1; }
	done
	dpkg-deb --ctrl-tarfile "$1" | tar -xO ./prerm | grep -q 'dkms remove' || { echo "prerm does not run dkms remove"; bad=1; }
	return $bad
}

# The lock must survive an upgrade or a reinstall: virtd is not stopped in
# prerm on upgrade, and restarted (its locks adopted) in postinst.
check_virtd_scripts() {	# check_virtd_scripts DEB
	local prerm postinst bad=0
	prerm=$(dpkg-deb --ctrl-tarfile "$1" | tar -xO ./prerm)
	postinst=$(dpkg-deb --ctrl-tarfile "$1" | tar -xO ./postinst)
	# (Debian 13's debhelper names the socket unit in the same line.)
	grep -qE "deb-systemd-invoke stop ('[^']*' )*'virtd.service'" <<<"$prerm" || { echo "prerm never stops virtd"; bad=1; }
	# shellcheck disable=SC2016 # the script's own words
	grep -B3 'deb-systemd-invoke stop' <<<"$prerm" | grep -q '"$1" = remove' ||
		{ echo "prerm stops virtd on upgrade too"; bad=1; }
	grep -q '_dh_action=restart' <<<"$postinst" || { echo "postinst does not restart virtd after an upgrade"; bad=1; }
	dpkg-deb --ctrl-tarfile "$1" | tar -xO ./postrm | grep -q 'rm -rf /run/virtd' || { echo "postrm leaves /run/virtd"; bad=1; }
	return $bad
}

# lintian's E: and W: tags (after debian/*.lintian-overrides) fail the check;
# I:, P: and X: tags are counted.
check_lintian() {	# check_lintian NAME LOG
	local bad info
	bad=$(grep -E '^[EW]: ' "$2" || true)
	info=$(grep -cE '^[IPX]: ' "$2" || true)
	if [ -n "$bad" ]; then
		result FAIL "$1" "$(tr '\n' ';' <<<"$bad" | cut -c1-600)"
	elif ! grep -q . "$2.rc" || [ "$(cat "$2.rc")" -ne 0 ]; then
		result FAIL "$1" "lintian exited $(cat "$2.rc") (see $2)"
	else
		result PASS "$1" "no errors, no warnings ($info info, pedantic or experimental tags, see $2)"
	fi
}

# Runs dpkg-buildpackage in DIR/src and lintian on the result, on the host
# or (with a ROOT) chrooted in it.  build_suite SUITE DIR [ROOT]
build_suite() {
	local suite=$1 dir=$2 root=${3:-} t0 rc=0
	if [ -n "$root" ]; then
		run() { in_root "$root" "$dir" "$@"; }
	else
		run() { (cd "$dir" && "$@"); }
	fi
	export_tree "$dir/src"
	rm -f "$dir"/*.deb "$dir"/*.changes "$dir"/*.buildinfo
	t0=$(date +%s)
	run /bin/sh -c 'cd src && exec dpkg-buildpackage -us -uc -b -j2' >"$dir/build.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		result FAIL "deb-$suite/build" "dpkg-buildpackage exited $rc; last lines: $(tail -n 5 "$dir/build.log" | tr '\n' ';')"
		return
	fi
	result PASS "deb-$suite/build" "$(cd "$dir" && ls ./*.deb | sed 's|^\./||' | paste -sd' ') in $(($(date +%s) - t0)) s"
	# The compiler's own warnings (hardening flags included); configure runs without -Werror here.
	check "deb-$suite/no-compiler-warnings" "none in $dir/build.log" \
		sh -c "! grep -E '^[^ ]+\\.[chS]:[0-9]+(:[0-9]+)?: warning:' '$dir/build.log'"
	check "deb-$suite/virtd-contents" "${#VIRTD_FILES[@]} files, /etc/virtd.conf a conffile" \
		check_virtd_deb "$(ls "$dir"/virtd_*.deb)"
	check "deb-$suite/virtd-maintainer-scripts" "no stop on upgrade, restart after it, /run/virtd removed with the package" \
		check_virtd_scripts "$(ls "$dir"/virtd_*.deb)"
	check "deb-$suite/virthw-dkms-contents" "kmod/'s sources and dkms.conf in /usr/src/virthw-$dkms_version, Architecture: all" \
		check_dkms_deb "$(ls "$dir"/virthw-dkms_*.deb)"
	rc=0
	run /bin/sh -c 'exec lintian --info --pedantic --display-experimental "$1"' sh \
		"$(cd "$dir" && ls virtd_*.changes)" >"$dir/lintian.log" 2>&1 || rc=$?
	echo "$rc" >"$dir/lintian.log.rc"
	check_lintian "deb-$suite/lintian" "$dir/lintian.log"
}

check deb/versions "$deb_version everywhere" versions_agree
for suite in "${suites[@]}"; do
	dir=$out/$suite
	mkdir -p "$dir"
	case $suite in
	bookworm)
		host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		if [ "$host" != bookworm ]; then
			result FAIL deb-bookworm/build "the host is '$host', not Debian 12 (bookworm): run scripts/deb.sh trixie, or on Debian 12"
			continue
		fi
		missing=$(cd "$top" && dpkg-checkbuilddeps 2>&1) ||
			{ result FAIL deb-bookworm/build "$missing: run scripts/install-deps.sh"; continue; }
		command -v lintian >/dev/null || { result FAIL deb-bookworm/build "lintian is missing: run scripts/install-deps.sh"; continue; }
		build_suite bookworm "$dir"
		;;
	trixie)
		if ! deps=$(cd "$top" && build_depends); then
			result FAIL deb-trixie/build "could not read debian/control's Build-Depends: $deps"
			continue
		fi
		# shellcheck disable=SC2086 # one word per package
		if ! broot=$("$VM_DIR/buildroot.sh" trixie build-essential lintian dbus-daemon $deps 2>"$dir/root.log"); then
			result FAIL deb-trixie/build "no trixie build root: $(tail -n 3 "$dir/root.log" | tr '\n' ';')"
			continue
		fi
		build_suite trixie "$dir" "$broot"
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

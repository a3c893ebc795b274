#!/bin/bash
# Builds the test machines' initramfs: busybox, the kernel's KVM modules, virthw.ko, the project's binaries, the guest tests.
#
# Usage: tests/vm/mkinitramfs.sh --kernel KERNEL --vendor amd|intel --out FILE
#                                [--virthw KO] [--missing-ok] [--gzip] [--daemon]
#   --daemon       the daemon's image: virtd as installed (/usr/sbin/virtd,
#                  /etc/virtd.conf, the bus policy, the unit), dbus-daemon with
#                  Debian's system bus configuration, systemd-udevd and udevadm,
#                  kmod as modprobe/insmod/rmmod/lsmod/modinfo (busybox's
#                  modprobe ignores /run/modprobe.d), systemd as a possible
#                  PID 1, the host's copies of all of these and their
#                  libraries, in a merged-/usr layout; polkitd with its
#                  and the project's actions and rules; and the lock's test
#                  hypervisor: foreignhv.ko (build-kmod.sh --foreignhv) with
#                  tests/vm/progs/foreign-hv
#   --virthw KO    use this virthw.ko instead of building it (build-kmod.sh)
#   --missing-ok   leave out project inputs that do not exist yet (virthw.ko,
#                  binaries) with a warning, instead of failing; the scenarios
#                  that need them then fail or skip inside the machine
#   --gzip         compress the archive (default: uncompressed, which boots
#                  faster under TCG than a gzip the kernel has to inflate)
# BUILDDIR (default: the repository root) is where src/virtctl and
# tests/vm/progs/{kvm-vm,virthw-badreq,virthw-probe,virthw-attack} are taken from.  An archive newer than
# all of its inputs (and built with the same options) is kept as it is.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

usage() {
	echo "usage: $0 --kernel <${FLAVORS[*]// /|}> --vendor amd|intel --out FILE [--virthw KO] [--missing-ok] [--gzip] [--daemon]" >&2
	exit 2
}

flavor="" vendor="" out="" virthw="" missing_ok=0 gzip=0 daemon=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	--vendor) vendor=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--virthw) virthw=${2:?}; shift 2 ;;
	--missing-ok) missing_ok=1; shift ;;
	--gzip) gzip=1; shift ;;
	--daemon) daemon=1; shift ;;
	-h | --help) usage ;;
	*) echo "$PROG: unknown argument '$1'" >&2; usage ;;
	esac
done
if [ -z "$flavor" ] || [ -z "$out" ]; then usage; fi
check_kernel "$flavor"
# Only the top of each vendor's KVM stack is named; everything below it comes
# from the kernel's modules.dep.  msr gives the scenarios an oracle for
# EFER.SVME / CR4-independent MSR reads that does not go through virthw.
case "$vendor" in
amd) top_modules=(kvm_amd msr) ;;
intel) top_modules=(kvm_intel msr) ;;
*) usage ;;
esac

kdir=$(kernel_dir "$flavor")
kver=$(fetched_kver "$flavor")
moddir=$(readlink -f "$kdir/modules")
[ -s "$moddir/modules.dep" ] || die "$moddir/modules.dep missing: run tests/vm/fetch-kernels.sh $flavor"
builddir=${BUILDDIR:-$REPO_ROOT}
[ -d "$builddir" ] || die "BUILDDIR $builddir is not a directory"

missing() {
	if [ "$missing_ok" = 1 ]; then
		log "warning: leaving out $1 ($2)"
	else
		die "$1 is missing: $2 (or pass --missing-ok to build without it)"
	fi
}

# --- inputs --------------------------------------------------------------
is_static() {
	[ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1
}
busybox=""
for b in /bin/busybox "$(command -v busybox || true)"; do
	if [ -n "$b" ] && is_static "$b"; then
		busybox=$b
		break
	fi
done
[ -n "$busybox" ] || die "no static busybox: apt-get install busybox-static"

if [ -z "$virthw" ]; then
	if ko=$("$VM_DIR/build-kmod.sh" "$flavor" 2>"$VM_OUT/build-kmod-$flavor.log"); then
		virthw=$ko
	else
		missing virthw.ko "tests/vm/build-kmod.sh $flavor failed, see $VM_OUT/build-kmod-$flavor.log"
	fi
elif [ ! -f "$virthw" ]; then
	missing "$virthw" "no such file"
	virthw=""
fi

foreignhv=""
if [ "$daemon" = 1 ]; then
	if ko=$("$VM_DIR/build-kmod.sh" --foreignhv "$flavor" 2>"$VM_OUT/build-foreignhv-$flavor.log"); then
		foreignhv=$ko
	else
		missing foreignhv.ko "tests/vm/build-kmod.sh --foreignhv $flavor failed, see $VM_OUT/build-foreignhv-$flavor.log"
	fi
fi

# A libtool-linked program is a wrapper script; the real binary is in .libs/.
real_binary() {
	local f=$1
	if [ -f "$f" ] && head -c 2 "$f" | grep -q '^#!' && grep -q libtool "$f" 2>/dev/null; then
		f="$(dirname "$f")/.libs/$(basename "$f")"
	fi
	echo "$f"
}
binaries=()
project_bins=(src/virtctl tests/vm/progs/kvm-vm tests/vm/progs/virthw-badreq tests/vm/progs/virthw-probe tests/vm/progs/virthw-attack)
[ "$daemon" = 1 ] && project_bins+=(src/virtd src/virtd-kmod tests/vm/progs/benchtool tests/vm/progs/bus-bench tests/vm/progs/foreign-hv tests/vm/progs/unpriv-check)
# virtd runs its module helper by the path configure baked in (make install's).
kmod_helper=
if [ "$daemon" = 1 ]; then
	kmod_helper=$(sed -n 's/^#define VIRTD_KMOD_HELPER "\(\/[^"]*\)"$/\1/p' "$builddir/autoconfig.h" 2>/dev/null)
	[ -n "$kmod_helper" ] || missing "$builddir/autoconfig.h" "configure the build first (it names virtd-kmod's installed path)"
fi
for b in "${project_bins[@]}"; do
	f=$(real_binary "$builddir/$b")
	if [ -x "$f" ] && [ -f "$f" ]; then
		binaries+=("$f")
	else
		missing "$builddir/$b" "build the userspace first: ./autogen.sh && ./configure && make (BUILDDIR=$builddir)"
	fi
done

# The daemon's world, from the host (Debian 12: the same releases a user of
# the package gets).  host_bins keep their path; DATA is "SOURCE DEST" pairs.
host_bins=() data=()
if [ "$daemon" = 1 ]; then
	host_bins=(/usr/bin/kmod /usr/bin/dbus-daemon /usr/bin/dbus-send /usr/bin/busctl
		/usr/bin/udevadm /usr/bin/systemctl /usr/bin/journalctl /usr/bin/systemd-analyze
		/usr/lib/systemd/systemd /usr/lib/systemd/systemd-journald
		/usr/lib/systemd/systemd-shutdown /usr/lib/polkit-1/polkitd)
	for b in "${host_bins[@]}"; do
		[ -x "$b" ] || die "$b is missing: apt-get install systemd udev dbus kmod polkitd (scripts/install-deps.sh)"
	done
	# The shipped hypervisor profiles, where this build's virtd looks
	# ($(pkgdatadir)/profiles: the prefix configure was given).
	prefix=$(sed -n 's/^S\["prefix"\]="\(.*\)"$/\1/p' "$builddir/config.status" 2>/dev/null)
	for f in "$REPO_ROOT"/conf/profiles/*.conf; do
		[ -f "$f" ] && data+=("$f ${prefix:-/usr/local}/share/virtd/profiles/${f##*/}")
	done
	data+=("/usr/share/dbus-1/system.conf /usr/share/dbus-1/system.conf"
		"/usr/share/dbus-1/system.d/org.freedesktop.systemd1.conf /usr/share/dbus-1/system.d/org.freedesktop.systemd1.conf"
		"/usr/lib/udev/rules.d/50-udev-default.rules /usr/lib/udev/rules.d/50-udev-default.rules"
		"/usr/lib/udev/rules.d/99-systemd.rules /usr/lib/udev/rules.d/99-systemd.rules")
	# polkitd (scenarios/daemon-polkit): its bus policy, its own action and
	# default rule; the project's actions and rule come below.
	for f in /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf \
		/usr/share/polkit-1/actions/org.freedesktop.policykit.policy \
		/usr/share/polkit-1/rules.d/50-default.rules; do
		data+=("$f $f")
	done
	# Debian's units for the systemd-as-PID-1 boot: the bus, udev, the
	# journal and the targets they order against; nothing else starts.
	for u in dbus.service dbus.socket systemd-udevd.service systemd-udevd-control.socket \
		systemd-udevd-kernel.socket systemd-udev-trigger.service systemd-journald.service \
		systemd-journald.socket systemd-journald-dev-log.socket sysinit.target basic.target \
		sockets.target shutdown.target final.target umount.target poweroff.target \
		systemd-poweroff.service slices.target; do
		data+=("/usr/lib/systemd/system/$u /usr/lib/systemd/system/$u")
	done
	for u in virtd-test.target virtd-test.service; do
		data+=("$VM_DIR/guest/units/$u /usr/lib/systemd/system/$u")
	done
	for f in /etc/os-release /usr/lib/os-release; do
		[ -f "$f" ] && data+=("$(readlink -f "$f") /usr/lib/os-release") && break
	done
	# The project's files, where `make install` and the packaging put them.
	for pair in "conf/virtd.conf /etc/virtd.conf" \
		"conf/org.virtd1.conf /usr/share/dbus-1/system.d/org.virtd1.conf" \
		"conf/org.virtd1.policy /usr/share/polkit-1/actions/org.virtd1.policy" \
		"conf/60-virtd-vboxusers.rules /usr/share/polkit-1/rules.d/60-virtd-vboxusers.rules" \
		"systemd/virtd.service /usr/lib/systemd/system/virtd.service" \
		"systemd/virtd-kmod.socket /usr/lib/systemd/system/virtd-kmod.socket" \
		"systemd/virtd-kmod@.service /usr/lib/systemd/system/virtd-kmod@.service"; do
		src=$REPO_ROOT/${pair%% *}
		if [ -f "$src" ]; then
			data+=("$src ${pair#* }")
		else
			missing "$src" "not written yet"
		fi
	done
	for pair in "${data[@]}"; do
		[ -f "${pair%% *}" ] || die "${pair%% *} is missing (apt-get install systemd udev dbus: scripts/install-deps.sh)"
	done
fi

guest_files=("$VM_DIR/guest/init" "$VM_DIR/guest/lib.sh")
for f in "${guest_files[@]}"; do
	[ -f "$f" ] || die "$f is missing from the source tree"
done
scenarios=("$VM_DIR"/scenarios/*.sh)
# The benchmark's guest side runs like a scenario.
[ "$daemon" = 1 ] && scenarios+=("$VM_DIR"/bench/*.sh)
[ -e "${scenarios[0]}" ] || die "no scenarios in $VM_DIR/scenarios/"

# Module closure over the kernel's own modules.dep (paths relative to moddir).
declare -A DEPS PATHOF
while IFS= read -r line; do
	mod=${line%%:*}
	name=${mod##*/}
	name=${name%%.ko*}
	name=${name//-/_}
	PATHOF[$name]=$mod
	DEPS[$name]=${line#*:}
done <"$moddir/modules.dep"
want=("${top_modules[@]}")
if [ -n "$virthw" ]; then
	vdeps=$(modinfo -F depends "$virthw" 2>/dev/null || true)
	IFS=, read -r -a vd <<<"$vdeps"
	want+=("${vd[@]}")
fi
declare -A PICK
for m in "${want[@]}"; do
	[ -n "$m" ] || continue
	m=${m//-/_}
	[ -n "${PATHOF[$m]:-}" ] || die "module $m is not in $moddir/modules.dep (kernel $kver)"
	PICK[${PATHOF[$m]}]=1
	for d in ${DEPS[$m]}; do
		PICK[$d]=1
	done
done
modfiles=()
for p in "${!PICK[@]}"; do
	modfiles+=("$p")
done
mapfile -t modfiles < <(printf '%s\n' "${modfiles[@]}" | sort)

libs=()
if [ $((${#binaries[@]} + ${#host_bins[@]})) -gt 0 ]; then
	mapfile -t libs < <(for b in "${binaries[@]}" "${host_bins[@]}"; do
		# A static binary makes ldd fail: that must not end the loop.
		{ ldd "$b" 2>/dev/null || true; } | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
	done | sort -u)
fi

inputs=("$busybox" "$moddir/modules.dep" "${binaries[@]}" "${libs[@]}" "${guest_files[@]}" "${scenarios[@]}" "$0" "$VM_DIR/common.sh")
inputs+=("${host_bins[@]}")
for pair in "${data[@]}"; do
	inputs+=("${pair%% *}")
done
[ -n "$virthw" ] && inputs+=("$virthw")
[ -n "$foreignhv" ] && inputs+=("$foreignhv")
for p in "${modfiles[@]}"; do
	inputs+=("$moddir/$p")
done

# --- up to date? -----------------------------------------------------------
sig="kernel=$kver vendor=$vendor gzip=$gzip daemon=$daemon virthw=$virthw foreignhv=$foreignhv bins=${binaries[*]} data=${data[*]} scenarios=${scenarios[*]}"
if up_to_date "$out" "$out.sig" -- "${inputs[@]}" && [ "$(cat "$out.sig")" = "$sig" ]; then
	log "$out is up to date"
	exit 0
fi

# --- stage -----------------------------------------------------------------
mkdir -p "$VM_OUT" "$(dirname "$out")"
stage=$(mktemp -d "$VM_OUT/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

if [ "$daemon" = 1 ]; then
	# Merged /usr, as on the host the binaries and libraries come from
	# (libsystemd-shared is found through a RUNPATH under /usr/lib).
	mkdir -p "$stage"/usr/{bin,sbin,lib,lib64}
	for d in bin sbin lib lib64; do
		ln -s "usr/$d" "$stage/$d"
	done
fi
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,tests/scenarios}
cp "$busybox" "$stage/bin/busybox"
"$busybox" --list-full | while IFS= read -r a; do
	[ "$a" = bin/busybox ] && continue
	ln -sf /bin/busybox "$stage/$a"
done

mdst=$stage/lib/modules/$kver
mkdir -p "$mdst/extra"
for p in "${modfiles[@]}"; do
	d="$mdst/${p%.xz}"
	mkdir -p "$(dirname "$d")"
	case "$p" in
	*.ko.xz) xz -dc "$moddir/$p" >"$d" ;;
	*.ko.zst) zstd -dcq "$moddir/$p" >"$d" ;;
	*.ko.gz) gzip -dc "$moddir/$p" >"$d" ;;
	*) cp "$moddir/$p" "$d" ;;
	esac
done
[ -n "$virthw" ] && cp "$virthw" "$mdst/extra/virthw.ko"
[ -n "$foreignhv" ] && cp "$foreignhv" "$mdst/extra/foreignhv.ko"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$mdst/"
done
depmod -b "$stage" "$kver" || die "depmod -b $stage $kver failed"

for b in "${binaries[@]}"; do
	case "$b" in
	*/virtctl) d=usr/bin/virtctl ;;
	*/virtd) d=usr/sbin/virtd ;;
	*/virtd-kmod) d=${kmod_helper#/} ;;
	*) d=tests/bin/$(basename "$b") ;;
	esac
	mkdir -p "$(dirname "$stage/$d")"
	cp "$b" "$stage/$d"
done
for l in "${libs[@]}"; do
	mkdir -p "$stage$(dirname "$l")"
	cp -L "$l" "$stage$l"
done

if [ "$daemon" = 1 ]; then
	# rm first: the busybox applet of the same name is a symlink that cp
	# would follow, overwriting busybox itself.
	for b in "${host_bins[@]}"; do
		rm -f "$stage$b"
		mkdir -p "$stage$(dirname "$b")"
		cp "$b" "$stage$b"
	done
	for a in modprobe insmod rmmod lsmod modinfo depmod; do
		for d in usr/sbin usr/bin; do
			rm -f "$stage/$d/$a"
		done
		ln -s ../bin/kmod "$stage/usr/sbin/$a"
	done
	ln -s ../../bin/udevadm "$stage/usr/lib/systemd/systemd-udevd"
	for pair in "${data[@]}"; do
		mkdir -p "$stage$(dirname "${pair#* }")"
		cp "${pair%% *}" "$stage${pair#* }"
	done
	# The helper unit names the packaged path; the image has the build's.
	sed -i "s|^ExecStart=/usr/libexec/virtd/virtd-kmod |ExecStart=$kmod_helper |" \
		"$stage/usr/lib/systemd/system/virtd-kmod@.service"
	mkdir -p "$stage"/etc/{modprobe.d,dbus-1/system.d,polkit-1/rules.d} "$stage"/var/{lib/dbus,lib/polkit-1,log,tmp} \
		"$stage/usr/lib/modprobe.d" "$stage/usr/lib/systemd/system/sysinit.target.wants"
	# A fixed machine ID: systemd and dbus-daemon want one, and a generated
	# one would make each boot differ.
	# Debian's /var/run: GLib's programs (polkitd) find the system bus there.
	ln -s ../run "$stage/var/run"
	echo 5d7a1c0e9b8f4a6d8e2f3c4b5a697881 >"$stage/etc/machine-id"
	ln -s /etc/machine-id "$stage/var/lib/dbus/machine-id"
	ln -s ../usr/lib/os-release "$stage/etc/os-release" 2>/dev/null || true
	echo virtd-test >"$stage/etc/hostname"
	ln -s virtd-test.target "$stage/usr/lib/systemd/system/default.target"
fi

install -m 0755 "$VM_DIR/guest/init" "$stage/init"
install -m 0644 "$VM_DIR/guest/lib.sh" "$stage/tests/lib.sh"
install -m 0644 "${scenarios[@]}" "$stage/tests/scenarios/"
printf 'root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:102::/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
# polkitd switches to its own user at start (the daemon image's polkitd).
echo 'polkitd:x:997:997:polkit:/nonexistent:/bin/false' >>"$stage/etc/passwd"
# A local user with a real uid and a group of its own (scenarios/unprivileged).
echo 'tester:x:1000:1000:unprivileged tests:/nonexistent:/bin/sh' >>"$stage/etc/passwd"
# The groups Debian's udev rules and units name, so that udevd applies them.
printf '%s\n' root:x:0: tty:x:5: disk:x:6: kmem:x:15: dialout:x:20: cdrom:x:24: audio:x:29: \
	video:x:44: messagebus:x:102: input:x:105: sgx:x:106: kvm:x:107: render:x:108: \
	systemd-journal:x:999: polkitd:x:997: nogroup:x:65534: tester:x:1000: >"$stage/etc/group"
{
	echo "kver=$kver"
	echo "vendor=$vendor"
	echo "virthw=$([ -n "$virthw" ] && echo yes || echo no)"
	echo "daemon=$daemon"
	echo "foreignhv=$([ -n "$foreignhv" ] && echo yes || echo no)"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stage/etc/virtd-test-image"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc --owner=0:0 --quiet) >"$out.tmp"
if [ "$gzip" = 1 ]; then
	gzip -6 -n <"$out.tmp" >"$out.tmp.gz"
	mv "$out.tmp.gz" "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "$sig" >"$out.sig"
log "wrote $out ($(du -h "$out" | cut -f1); kernel $kver, $vendor, modules: $(printf '%s ' "${modfiles[@]##*/}")$([ -n "$virthw" ] && echo "+ virthw.ko")$([ -n "$foreignhv" ] && echo " + foreignhv.ko"))"

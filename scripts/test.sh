#!/bin/bash
# The project's test command: installs what is missing, builds, and runs every
# suite (unit tests under ASan/UBSan, on the host and in a Debian 13 build
# root, the libFuzzer fuzzers, the module against every kernel of
# tests/vm/kernels, real kernels in QEMU and Bochs), then prints each
# phase's duration and one total line "N passed, N failed, N skipped".
#
# Usage: scripts/test.sh [--kernel=KERNEL]
#   --kernel=KERNEL  everything on one kernel of tests/vm/kernels: its module
#                    build and the full QEMU and Bochs suites on it (default:
#                    the whole matrix, as the table's qemu and bochs columns say)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

only=
for a in "$@"; do
	case $a in
	--kernel=?*) only=${a#--kernel=} ;;
	-h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "test: unknown argument '$a' (usage: scripts/test.sh [--kernel=KERNEL])" >&2; exit 2 ;;
	esac
done
if [ -n "$only" ] && ! grep -qE "^$only[[:space:]]" tests/vm/kernels; then
	echo "test: unknown kernel '$only': use a name from tests/vm/kernels ($(awk '!/^#/ && NF {printf "%s ", $1}' tests/vm/kernels))" >&2
	exit 2
fi

passed=0 failed=0 skipped=0
log_dir=$top/tests/vm/out
mkdir -p "$log_dir"

# Each phase's wall-clock time, printed at the end so the CI budget shows.
phases=() phase_name= phase_start=
say() {
	phase_end
	printf '== %s\n' "$*"
	phase_name=$* phase_start=$(date +%s)
}
phase_end() {
	[ -n "$phase_name" ] && phases+=("$(printf '%5d s  %s' $(($(date +%s) - phase_start)) "$phase_name")")
	phase_name=
}
run_start=$(date +%s)
result() {	# result PASS|FAIL|SKIP NAME [DETAIL]
	printf '%s %s%s\n' "$1" "$2" "${3:+: $3}"
	case $1 in
	PASS) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	esac
}
# Adds the counts of a suite's closing "N passed, N failed, N skipped" line.
add_counts() {	# add_counts NAME LOGFILE EXITCODE
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n1)
	if [ -z "$line" ]; then
		result FAIL "$1" "no summary line (see $2)"
		return
	fi
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		result FAIL "$1" "exited $3 (see $2)"
	fi
}

say "dependencies"
if ! "$top/scripts/install-deps.sh"; then
	echo "test: could not install dependencies" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

say "build (-Werror) and unit tests under ASan/UBSan"
nproc=$(nproc)
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	./autogen.sh >"$log_dir/autogen.log" 2>&1 || { result FAIL autogen "see $log_dir/autogen.log"; }
fi
mkdir -p build/release build/asan
if (cd build/release && { [ -f Makefile ] || ../../configure --enable-werror >"$log_dir/configure-release.log" 2>&1; } \
	&& make -j"$nproc" >"$log_dir/make-release.log" 2>&1); then
	result PASS build/release
else
	result FAIL build/release "see $log_dir/make-release.log and configure-release.log"
fi
if (cd build/asan && { [ -f Makefile ] || ../../configure --enable-werror --enable-sanitizers >"$log_dir/configure-asan.log" 2>&1; } \
	&& make -j"$nproc" >"$log_dir/make-asan.log" 2>&1); then
	result PASS build/asan
	(cd build/asan && make -j"$nproc" check >"$log_dir/check-asan.log" 2>&1)
	rc=$?
	for t in build/asan/tests/unit/*.trs; do
		[ -e "$t" ] || continue
		name=unit/$(basename "$t" .trs)
		checks=$(grep -E '^[0-9]+ checks, [0-9]+ failed$' "${t%.trs}.log" | tail -n1)
		case $(sed -n 's/^:test-result: //p' "$t" | head -n1) in
		PASS) result PASS "$name" "$checks" ;;
		SKIP) result SKIP "$name" ;;
		*) result FAIL "$name" "see ${t%.trs}.log" ;;
		esac
	done
	[ "$rc" -eq 0 ] || grep -q '^FAIL' <(for t in build/asan/tests/unit/*.trs; do sed -n 's/^:test-result: //p' "$t"; done) \
		|| result FAIL "make check" "exited $rc (see $log_dir/check-asan.log)"
else
	result FAIL build/asan "see $log_dir/make-asan.log and configure-asan.log"
fi

say "manual pages (mandoc -Tlint)"
for m in man/*.[0-9]; do
	[ -e "$m" ] || continue
	if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$out" ]; then
		result PASS "mandoc/$(basename "$m")"
	else
		result FAIL "mandoc/$(basename "$m")" "$out"
	fi
done

say "the unit's exposure (systemd-analyze security --offline on systemd/virtd.service)"
# The target is the one the unit states; systemd-admin checks the installed
# unit the same way under the guest's systemd.
target=$(sed -n 's/^# systemd-analyze security: \([0-9]*\.[0-9]\) at most.*/\1/p' systemd/virtd.service)
score=$(systemd-analyze security --offline=yes --no-pager systemd/virtd.service 2>&1 |
	sed -n 's/.*Overall exposure level for virtd\.service: \([0-9]*\.[0-9]\).*/\1/p')
if [ -z "$target" ] || [ -z "$score" ]; then
	result FAIL unit-exposure "no target ('# systemd-analyze security: N.N at most' in the unit: '$target') or no score ('$score')"
elif systemd-analyze security --offline=yes --threshold="${target//./}" systemd/virtd.service >/dev/null 2>&1; then
	result PASS unit-exposure "$score (target $target, systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'))"
else
	result FAIL unit-exposure "$score, above the target $target: systemd-analyze security --offline=yes systemd/virtd.service lists what is exposed"
fi

say "release tarball (make distcheck: build, unit tests, install and uninstall from the tarball)"
if (cd build/release && make -j"$nproc" distcheck >"$log_dir/distcheck.log" 2>&1); then
	result PASS distcheck "$(sed -n 's/^\(virtd-.*\.tar\.gz\)$/\1/p' "$log_dir/distcheck.log" | head -n1)"
else
	result FAIL distcheck "see $log_dir/distcheck.log"
fi
rm -f build/release/virtd-*.tar.gz

export BUILDDIR=$top/build/release
# shellcheck source=../tests/vm/common.sh
. tests/vm/common.sh
kernels=("${FLAVORS[@]}")
[ -z "$only" ] || kernels=("$only")

# The fuzzers (one core each in turn) run beside the kernels' download,
# which waits mostly for the archive: two minutes of CI saved.
fuzz_seconds=10
tests/fuzz/run.sh --seconds="$fuzz_seconds" >"$log_dir/fuzz.log" 2>&1 &
fuzz_pid=$!
say "kernels: fetch ${kernels[*]} (private apt, unpacked into the cache), beside the fuzzers (libFuzzer, ASan/UBSan: seeds, then $fuzz_seconds s each)"
if tests/vm/fetch-kernels.sh "${kernels[@]}" >"$log_dir/fetch-kernels.log" 2>&1; then
	result PASS fetch-kernels "$(awk 'NF == 4 && $4 ~ /^\// {printf "%s=%s ", $1, $2}' "$log_dir/fetch-kernels.log")"
else
	result FAIL fetch-kernels "see $log_dir/fetch-kernels.log"
fi
say "fuzzers: what is left of their run after the fetch"
wait "$fuzz_pid"
add_counts fuzz "$log_dir/fuzz.log" $?
grep -E '^(PASS|FAIL|SKIP) ' "$log_dir/fuzz.log"

say "virthw and foreignhv modules, W=1, against ${kernels[*]} (each in its suite's build root)"
# virthw, and the lock scenarios' stand-in hypervisor (foreignhv.ko).
for k in "${kernels[@]}"; do
	for m in kmod foreignhv; do
		l=$log_dir/$m-$k.log
		if tests/vm/build-kmod.sh $([ $m = foreignhv ] && echo --foreignhv) "$k" >"$l" 2>&1; then
			if grep -qE 'warning:|error:' "$l"; then
				result FAIL "$m/$k" "warnings (see $l)"
			else
				result PASS "$m/$k"
			fi
		else
			result FAIL "$m/$k" "build failed (see $l)"
		fi
	done
done

if [ -z "$only" ]; then
	say "userspace in the Debian 13 build root (-Werror, unit tests under ASan/UBSan)"
	tests/vm/userspace-root.sh trixie >"$log_dir/userspace-trixie.log" 2>&1
	add_counts userspace-trixie "$log_dir/userspace-trixie.log" $?
	grep -E '^(PASS|FAIL|SKIP) ' "$log_dir/userspace-trixie.log"
fi

say "Debian packages (dpkg-buildpackage on 12 and 13, lintian)"
scripts/deb.sh >"$log_dir/deb.log" 2>&1
add_counts deb "$log_dir/deb.log" $?
grep -E '^(PASS|FAIL|SKIP) ' "$log_dir/deb.log"

say "installed system: Debian 13 with the .debs, systemd as PID 1"
# The deb phase's Debian 13 packages, installed by apt-get into a Debian 13
# root (DKMS builds virthw there) that QEMU boots (tests/vm/installed/).
inst_debs=()
compgen -G "$log_dir/deb/trixie/virtd_*.deb" >/dev/null && inst_debs=(--debs "$log_dir/deb/trixie")
tests/vm/installed/run.sh "${inst_debs[@]}" >"$log_dir/installed.log" 2>&1
add_counts installed "$log_dir/installed.log" $?
grep -E '^VIRTD-TEST: ' "$log_dir/installed.log" | sed 's/^VIRTD-TEST: //'

if [ -n "$only" ]; then
	qemu_args=("$only") bochs_args=("$only")
else
	qemu_args=() bochs_args=(--jobs 2)
fi
# What the guests send back (daemon-metrics' files): this run's only.
rm -rf "$log_dir/files"
say "QEMU (AMD SVM, real KVM): $([ -n "$only" ] && echo "full suite on $only" || echo "full on $(kernels_with qemu full | paste -sd' '), smoke on $(kernels_with qemu smoke | paste -sd' ')")"
tests/vm/run-suite.sh "${qemu_args[@]}" 2>&1 | tee "$log_dir/qemu-suite.log"
add_counts qemu-suite "$log_dir/qemu-suite.log" "${PIPESTATUS[0]}"

say "metrics: promtool check metrics and node_exporter's textfile collector on the renderer's states and on the files virtd wrote in the QEMU guests"
# Debian 12's promtool and node_exporter (tests/vm/prometheus.sh: unpacked
# into the cache, not installed); one PASS/FAIL line per file and tool.
prometheus() {	# prometheus check|rules|textfile NAME=FILE...
	tests/vm/prometheus.sh "$@" >"$log_dir/prometheus-$1.out" 2>>"$log_dir/prometheus.log"
	local rc=$? st rest
	while read -r st rest; do
		result "$st" "${rest%%: *}" "${rest#*: }"
	done < <(grep -E '^(PASS|FAIL) ' "$log_dir/prometheus-$1.out")
	[ "$rc" -eq 0 ] || grep -q '^FAIL ' "$log_dir/prometheus-$1.out" || result FAIL "prometheus/$1" "see $log_dir/prometheus.log"
}
samples=$log_dir/metrics-samples
rm -rf "$samples" "$log_dir/prometheus.log"
mkdir -p "$samples"
prom=()
if [ -x build/asan/tests/unit/test-metrics ] &&
	VIRTD_METRICS_SAMPLES=$samples build/asan/tests/unit/test-metrics >"$log_dir/metrics-samples.log" 2>&1; then
	for f in "$samples"/*.prom; do
		[ -e "$f" ] && prom+=("$(basename "$f" .prom)=$f")
	done
else
	result FAIL metrics/samples "build/asan/tests/unit/test-metrics did not write the samples (see $log_dir/metrics-samples.log)"
fi
for k in $([ -n "$only" ] && echo "$only" || kernels_with qemu full); do
	n=${#prom[@]}
	for f in "$log_dir/files/$k/"*.prom; do
		[ -e "$f" ] && prom+=("$k/$(basename "$f" .prom)=$f")
	done
	[ ${#prom[@]} -gt "$n" ] ||
		result FAIL "metrics/$k" "daemon-metrics and systemd-metrics sent no file back from the guest (see $log_dir/suite-$k-daemon.out)"
done
if [ ${#prom[@]} -gt 0 ]; then
	prometheus check "${prom[@]}"
	prometheus textfile "${prom[@]}"
fi
# The alerting rules of virtd.conf(5)'s EXAMPLES, as a user would paste them.
awk '/^groups:$/, /^\.Ed$/' man/virtd.conf.5 | sed '$d' >"$log_dir/virtd-alerts.yml"
if [ -s "$log_dir/virtd-alerts.yml" ]; then
	prometheus rules "virtd.conf.5-alerts=$log_dir/virtd-alerts.yml"
else
	result FAIL promtool/virtd.conf.5-alerts "no 'groups:' example in man/virtd.conf.5"
fi

say "Bochs (Intel VMX): $([ -n "$only" ] && echo "full suite on $only" || echo "full on $(kernels_with bochs full | paste -sd' '), smoke on $(kernels_with bochs smoke | paste -sd' ')")"
tests/vm/bochs/run-suite.sh "${bochs_args[@]}" 2>&1 | tee "$log_dir/bochs-suite.log"
add_counts bochs-suite "$log_dir/bochs-suite.log" "${PIPESTATUS[0]}"
phase_end

echo
echo "phases (wall clock):"
printf '%s\n' "${phases[@]}"
printf '%5d s  total\n' $(($(date +%s) - run_start))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

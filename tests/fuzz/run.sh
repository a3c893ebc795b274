#!/bin/bash
# Builds the libFuzzer fuzzers of tests/fuzz/ with clang (-fsanitize=fuzzer,
# address,undefined, leak detection on) and runs each: first over its seed
# corpus (regressions), then for a fixed budget of fresh inputs.  Prints
# "PASS fuzz/NAME: N execs, M edges" or "FAIL fuzz/NAME: ..." naming the
# crash file, and ends with "N passed, N failed".
#
# Usage: tests/fuzz/run.sh [--seconds=N] [--execs=N] [--keep] [NAME...]
#        tests/fuzz/run.sh --hw-seeds
#   --seconds=N  fuzz each for N seconds (default 10)
#   --execs=N    fuzz each for N executions instead (a long run: 1000000)
#   --keep       add the inputs that found new coverage to a scratch corpus
#                (OUT/NAME/new), never to the seed corpus in the tree
#   NAME         only these fuzzers (default: every tests/fuzz/fuzz-*.c)
#   --hw-seeds   rewrite the binary seeds of hw-parse (tests/fuzz/hw-seeds.c)
#
# Environment: CLANG (default: the newest clang-N with libFuzzer, 16 or 14),
# FUZZ_OUT (default: build/fuzz under the tree) for binaries, logs and
# crash files.  One fuzzer runs at a time, on one core.
#
# Each fuzzer is compiled from its own file and the project's source files it
# tests (no autotools build needed), with pkg-config's flags for the
# libraries those use: see the table below.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir=$top/tests/fuzz
seconds=10 execs='' keep=false hw_seeds=false
names=()
for a in "$@"; do
	case $a in
	--seconds=[0-9]*) seconds=${a#--seconds=} ;;
	--execs=[0-9]*) execs=${a#--execs=} ;;
	--keep) keep=true ;;
	--hw-seeds) hw_seeds=true ;;
	-h | --help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "fuzz: unknown option '$a' (see tests/fuzz/run.sh --help)" >&2; exit 2 ;;
	*) names+=("$a") ;;
	esac
done

# name: source files under src/ | pkg-config modules | program include dir
declare -A srcs=(
	[config]="src/daemon/config.c src/shared/quote.c|inih|src/daemon"
	[profile]="src/daemon/profiles.c src/daemon/config.c src/shared/quote.c|inih|src/daemon"
	[dropin]="src/daemon/dropin.c||src/daemon"
	[hw-parse]="src/shared/hw-parse.c src/shared/hw-json.c src/shared/json-util.c|libnl-3.0 libnl-genl-3.0 json-c|"
	[kvm-uevent]="src/daemon/kvm-events.c src/shared/log.c|libsystemd|src/daemon"
	[kmod-proto]="src/shared/kmod-proto.c src/shared/quote.c||"
	[lock-meta]="src/shared/lock-meta.c||"
	[virtctl-args]="src/ctl/virtctl-args.c src/shared/lock-meta.c||src/ctl"
	[json]="src/shared/json-util.c|json-c|"
	[status-print]="src/ctl/status-print.c src/shared/json-util.c src/shared/output.c|json-c|src/ctl"
	[probe-print]="src/ctl/probe-print.c src/shared/json-util.c src/shared/output.c|json-c|src/ctl"
)

if [ ${#names[@]} -eq 0 ]; then
	for f in "$fuzz_dir"/fuzz-*.c; do
		n=${f##*/fuzz-}
		names+=("${n%.c}")
	done
fi
for n in "${names[@]}"; do
	if [ ! -f "$fuzz_dir/fuzz-$n.c" ] || [ -z "${srcs[$n]:-}" ]; then
		echo "fuzz: unknown fuzzer '$n' (known: ${!srcs[*]})" >&2
		exit 2
	fi
done

find_clang() {
	local v
	for v in 16 15 14; do
		command -v "clang-$v" >/dev/null || continue
		# libFuzzer's runtime comes in libclang-rt-N-dev (clang-14: libclang-common-14-dev).
		if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }' |
			"clang-$v" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
			echo "clang-$v"
			return 0
		fi
	done
	return 1
}
clang=${CLANG:-$(find_clang)}
if [ -z "$clang" ]; then
	echo "fuzz: no clang with libFuzzer: apt-get install clang-16 libclang-rt-16-dev (scripts/install-deps.sh does)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
out=${FUZZ_OUT:-$top/build/fuzz}
mkdir -p "$out"

if $hw_seeds; then
	# shellcheck disable=SC2046
	"$clang" -std=gnu11 -Wall -Wextra -Werror -I"$top/kmod/uapi" $(pkg-config --cflags libnl-genl-3.0) \
		-o "$out/hw-seeds" "$fuzz_dir/hw-seeds.c" $(pkg-config --libs libnl-genl-3.0) &&
		"$out/hw-seeds" "$fuzz_dir/corpus/hw-parse" && ls "$fuzz_dir/corpus/hw-parse"
	exit
fi

cflags=(-std=gnu11 -g -O1 -D_GNU_SOURCE '-fsanitize=fuzzer,address,undefined' -fno-sanitize-recover=all
	-fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter
	-I"$top/kmod/uapi" -I"$top/src/shared" -I"$fuzz_dir")

build() {	# build NAME: compiles $out/fuzz-NAME, log in $out/NAME.build.log
	local n=$1 files mods inc
	IFS='|' read -r files mods inc <<<"${srcs[$n]}"
	local flags=() libs=() f
	if [ -n "$mods" ]; then
		# shellcheck disable=SC2207,SC2086 # one word per flag, several modules
		flags=($(pkg-config --cflags $mods)) libs=($(pkg-config --libs $mods)) || return 1
	fi
	local srcfiles=()
	for f in $files; do srcfiles+=("$top/$f"); done
	"$clang" "${cflags[@]}" ${inc:+-I"$top/$inc"} "${flags[@]}" -o "$out/fuzz-$n" \
		"$fuzz_dir/fuzz-$n.c" "${srcfiles[@]}" "${libs[@]}"
}

first() {	# first DIR: the name of a file in DIR, or nothing
	find "$1" -maxdepth 1 -type f -printf '%f\n' 2>/dev/null | sort | head -n1
}

passed=0 failed=0
result() {	# result PASS|FAIL NAME DETAIL
	printf '%s fuzz/%s: %s\n' "$1" "$2" "$3"
	if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# libFuzzer's closing lines: "Done N runs in S second(s)" and the last
# "#N ... cov: M ..." status line.
stats() {	# stats LOG -> "N execs, M edges"
	local runs cov
	runs=$(sed -nE 's/^Done ([0-9]+) runs in.*/\1/p' "$1" | tail -n1)
	cov=$(sed -nE 's/^#[0-9]+.*[[:space:]]cov: ([0-9]+) .*/\1/p' "$1" | tail -n1)
	echo "${runs:-?} execs, ${cov:-?} edges"
}

for n in "${names[@]}"; do
	log=$out/$n.log
	if ! build "$n" >"$out/$n.build.log" 2>&1; then
		result FAIL "$n" "does not build with $clang (see $out/$n.build.log)"
		continue
	fi
	corpus=$fuzz_dir/corpus/$n
	# The printers read JSON documents: the JSON dictionary (tokens and keys).
	dict=()
	case $n in status-print | probe-print) d=json ;; *) d=$n ;; esac
	[ -f "$fuzz_dir/$d.dict" ] && dict=(-dict="$fuzz_dir/$d.dict")
	art=$out/$n.crashes/
	rm -rf "$art" && mkdir -p "$art"
	# Regressions: every seed (and every crash input kept there) once.
	if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./fuzz-$n" -runs=0 -artifact_prefix="$art" "$corpus") \
		>"$log.seeds" 2>&1; then
		result FAIL "$n" "a seed fails: $(first "$art") (see $log.seeds)"
		continue
	fi
	# Fresh inputs: mutations of the corpus into a scratch copy (the tree's
	# seeds stay as they are).
	work=$out/$n/new
	rm -rf "$work" && mkdir -p "$work"
	budget=(-max_total_time="$seconds")
	[ -n "$execs" ] && budget=(-runs="$execs")
	(cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./fuzz-$n" "${budget[@]}" "${dict[@]}" -print_final_stats=1 \
		-max_len=4096 -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$art" "$work" "$corpus") >"$log" 2>&1
	rc=$?
	$keep || rm -rf "$work"
	crash=$(first "$art")
	if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
		result FAIL "$n" "exited $rc${crash:+, input $art$crash} (see $log)"
	else
		result PASS "$n" "$(stats "$log"), corpus $(find "$corpus" -type f | wc -l) seeds"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtctl's bash completion, sourced into bash and asked as readline would ask
# it: verbs, each verb's options, --cpu= values from this host's online CPUs,
# and the command after "virtctl lock --".
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
# shellcheck source=../../shell-completion/bash/virtctl
. "$srcdir/shell-completion/bash/virtctl" || { echo "FAIL: cannot source the completion"; exit 1; }

passed=0 failed=0
# expect WANT WORD...: completing the last WORD (COMP_WORDS as readline splits
# them, "=" a word of its own) gives exactly WANT (sorted, blank-separated).
expect() {
	local want=$1 got
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_virtctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
		echo "PASS completion: '$*' -> $got"
	else
		failed=$((failed + 1))
		echo "FAIL completion: '$*' -> '$got', want '$want'"
	fi
}

cpus=$(sed -e 's/,/\n/g' /sys/devices/system/cpu/online | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done | sort | tr '\n' ' ' | sed 's/ $//')

expect "help hw lock probe reload status" virtctl ""
expect "reload" virtctl re
expect "--help --version" virtctl -
expect "--full --help --json -l" virtctl status -
expect "--json" virtctl status --j
expect "--help" virtctl reload -
expect "--cpu= --help --iterations= --json" virtctl probe -
expect "--cpu= --help --json --monitor monitor" virtctl hw ""
expect "$cpus" virtctl probe --cpu = ""
expect "$cpus" virtctl hw --cpu ""
expect "" virtctl probe --iterations = ""
expect "-- --help --wait --wait= --who= --why=" virtctl lock -
# A launcher of our own on PATH stands for a hypervisor's.
bin=$(mktemp -d) || exit 1
trap 'rm -rf "$bin"' EXIT
printf '#!/bin/sh\n' >"$bin/vboxfake-launch" && chmod +x "$bin/vboxfake-launch"
PATH=$bin:$PATH
expect "vboxfake-launch" virtctl lock --who = vbox --why "a test" --wait = 5 -- vboxfake-l
expect "vboxfake-launch" virtctl lock vboxfake-l
expect "" virtctl lock --who ""
expect "$(compgen -c -- tru | sort -u | tr '\n' ' ' | sed 's/ $//')" virtctl lock -- tru
expect "help hw lock probe reload status" virtctl help ""
expect "" virtctl bogus -

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# Fetches test kernels of tests/vm/kernels into the cache: image, modules, vmlinux for PVH boot, and the headers' packages.
#
# Usage: tests/vm/fetch-kernels.sh [KERNEL...]   (default: every kernel of tests/vm/kernels)
# Writes $VIRTD_TEST_CACHE/kernels/<name>/{kver,version,vmlinuz,vmlinux,root/,
# headers.debs,compiler}.  Packages come from Debian's archive through a
# private apt (common.sh: apt_private) and are unpacked with dpkg -x: nothing
# is installed onto the host.  The headers are unpacked into a build root
# later, by build-kmod.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

# deps SUITES PACKAGE: the package's direct Depends, one per line (virtual
# packages without their <>).
deps() {
	apt_private "$1" apt-cache depends --important "$2" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: <\{0,1\}\([^ >]*\)>\{0,1\}$/\1/p'
}
# candidate SUITES PACKAGE: the version apt would take.
candidate() {
	apt_private "$1" apt-cache show --no-all-versions "$2" 2>/dev/null | sed -n 's/^Version: //p' | head -n1
}
# download SUITES PACKAGE VERSION: the .deb's path in the cache.
download() {
	local deb name=${2}_${3//:/%3a}
	deb=$(find "$CACHE/debs" -maxdepth 1 \( -name "${name}_amd64.deb" -o -name "${name}_all.deb" \) | head -n1)
	if [ -z "$deb" ]; then
		log "downloading $2 $3"
		(cd "$CACHE/debs" && apt_private "$1" apt-get download -q "$2=$3" >/dev/null 2>"$CACHE/debs/.download.err") ||
			{ cat "$CACHE/debs/.download.err" >&2; die "apt-get download $2=$3 failed (network?)"; }
		deb=$(find "$CACHE/debs" -maxdepth 1 \( -name "${name}_amd64.deb" -o -name "${name}_all.deb" \) | head -n1)
		[ -n "$deb" ] || die "apt-get download left no ${name}_*.deb in $CACHE/debs"
	fi
	echo "$deb"
}

# Uncompressed vmlinux (ELF, PVH entry note) from a bzImage.  The setup header
# gives the protected-mode code offset ((setup_sects + 1) * 512) and, in it,
# payload_offset/payload_length (0x248/0x24c); the payload is xz (6.1) or zstd
# (6.12), recognised by its magic.  If the header does not lead to a known
# magic, the first magic found in the file is used.
extract_vmlinux() {
	local bz=$1 out=$2 tmp setup poff plen start magic kind
	tmp="$out.tmp"
	setup=$(od -An -t u1 -j $((0x1f1)) -N 1 "$bz" | tr -d ' ')
	[ "$setup" -eq 0 ] && setup=4
	poff=$(od -An -t u4 -j $((0x248)) -N 4 "$bz" | tr -d ' ')
	plen=$(od -An -t u4 -j $((0x24c)) -N 4 "$bz" | tr -d ' ')
	start=$(((setup + 1) * 512 + poff))
	magic=$(od -An -t x1 -j "$start" -N 6 "$bz" | tr -d ' \n')
	case "$magic" in
	fd377a585a00) kind=xz ;;
	28b52ffd*) kind=zstd ;;
	*)
		kind=
		local m off
		for m in xz:'\xfd7zXZ\x00' zstd:'\x28\xb5\x2f\xfd'; do
			off=$(LC_ALL=C grep -obUaP "${m#*:}" "$bz" | head -n1 | cut -d: -f1) || true
			if [ -n "$off" ]; then
				kind=${m%%:*}
				start=$off
				plen=$(($(stat -c %s "$bz") - off))
				break
			fi
		done
		[ -n "$kind" ] || die "$bz: no xz or zstd payload found (neither at the setup header's payload_offset nor anywhere)"
		;;
	esac
	log "decompressing $kind payload ($plen bytes at offset $start) of $(basename "$bz")"
	# The kernel appends the uncompressed size after the stream; both decoders
	# may complain about those trailing bytes, so judge by the result.
	case "$kind" in
	xz) tail -c +$((start + 1)) "$bz" | head -c "$plen" | xz -dc --single-stream >"$tmp" 2>/dev/null || true ;;
	zstd) tail -c +$((start + 1)) "$bz" | head -c "$plen" | zstd -dcq >"$tmp" 2>/dev/null || true ;;
	esac
	[ "$(head -c 4 "$tmp" | od -An -t x1 | tr -d ' \n')" = 7f454c46 ] ||
		die "$bz: decompressed $kind payload is not an ELF file"
	mv "$tmp" "$out"
}

fetch_one() {
	local flavor=$1 suites dir meta pkg ver kver hmeta hpkg hver d deb debs=() hdebs=() compiler=""
	suites=$(kernel_field "$flavor" sources)
	dir=$(kernel_dir "$flavor")
	apt_private_update "$suites"
	meta=$(image_meta "$flavor")
	pkg=$(deps "$suites" "$meta" | grep -m1 -E '^linux-image-[0-9]') ||
		die "$flavor: no linux-image-<version> behind $meta in ${suites//,/ } (is the suite in tests/vm/kernels right?)"
	kver=${pkg#linux-image-}
	ver=$(candidate "$suites" "$pkg")
	[ -n "$ver" ] || die "$flavor: no candidate version of $pkg in ${suites//,/ }"
	hmeta=$(headers_meta "$flavor")
	hpkg=$(deps "$suites" "$hmeta" | grep -m1 -E '^linux-headers-[0-9]') ||
		die "$flavor: no linux-headers-<version> behind $hmeta in ${suites//,/ }"
	hver=$(candidate "$suites" "$hpkg")
	if [ "$hpkg" != "linux-headers-$kver" ] || [ "$hver" != "$ver" ]; then
		die "$flavor: image $pkg $ver but $hmeta points to $hpkg $hver; the archive is mid-update: retry later"
	fi
	mkdir -p "$CACHE/debs" "$dir"

	# The image, and on 7.x the packages it is split into (linux-binary holds
	# vmlinuz, linux-modules the modules, linux-base modules.builtin and
	# modules.order, without which depmod and modprobe miss built-in modules).
	debs+=("$(download "$suites" "$pkg" "$ver")")
	for d in $(deps "$suites" "$pkg" | grep -Fx -e "linux-binary-$kver" -e "linux-modules-$kver" -e "linux-base-$kver" || true); do
		debs+=("$(download "$suites" "$d" "$(candidate "$suites" "$d")")")
	done
	# The headers: the arch package, -common, the kbuild tools; the compiler
	# is the gcc-N the headers depend on (gcc-N or gcc-N-for-host).
	hdebs+=("$(download "$suites" "$hpkg" "$hver")")
	for d in $(deps "$suites" "$hpkg"); do
		case "$d" in
		linux-headers-*-common* | linux-kbuild-*) hdebs+=("$(download "$suites" "$d" "$(candidate "$suites" "$d")")") ;;
		gcc-[0-9]* | linux-compiler-gcc-[0-9]*) [ -n "$compiler" ] || compiler=$(grep -oE 'gcc-[0-9]+' <<<"$d" | head -n1) ;;
		esac
	done
	[ ${#hdebs[@]} -ge 3 ] || die "$flavor: $hpkg lacks its -common or linux-kbuild dependency (found: ${hdebs[*]##*/})"
	[ -n "$compiler" ] || die "$flavor: $hpkg names no gcc-N in its dependencies; cannot tell which compiler builds modules for it"

	if up_to_date "$dir/vmlinux" "$dir/kver" "$dir/root/.extracted" -- "${debs[@]}" &&
		[ "$(cat "$dir/kver")" = "$kver" ] && [ "$(cat "$dir/version")" = "$ver" ] &&
		[ "$(cat "$dir/image.debs" 2>/dev/null)" = "${debs[*]}" ]; then
		log "$flavor: $kver up to date in $dir"
	else
		log "$flavor: extracting ${debs[*]##*/}"
		rm -rf "$dir/root" "$dir/vmlinux" "$dir/vmlinuz"
		mkdir -p "$dir/root"
		for deb in "${debs[@]}"; do
			dpkg -x "$deb" "$dir/root"
		done
		local moddir vmlinuz
		moddir=$(find "$dir/root" -type d -path "*/lib/modules/$kver" | head -n1)
		[ -n "$moddir" ] || die "${debs[*]##*/} hold no lib/modules/$kver"
		# depmod -b wants BASE/lib/modules/KVER; merged-/usr packages put it under usr/.
		local base=${moddir%/lib/modules/"$kver"}
		depmod -b "$base" "$kver" || die "depmod -b $base $kver failed (package 'kmod')"
		[ -s "$moddir/modules.dep" ] || die "depmod wrote no $moddir/modules.dep"
		ln -sfn "${moddir#"$dir"/}" "$dir/modules"
		# Up to 6.x in boot/; 7.x's linux-binary puts it next to the modules.
		vmlinuz=
		for d in "$dir/root/boot/vmlinuz-$kver" "$moddir/vmlinuz"; do
			[ -f "$d" ] && { vmlinuz=$d; break; }
		done
		[ -n "$vmlinuz" ] || die "${debs[*]##*/} hold no vmlinuz (looked in boot/ and $moddir)"
		cp "$vmlinuz" "$dir/vmlinuz"
		extract_vmlinux "$dir/vmlinuz" "$dir/vmlinux"
		echo "$kver" >"$dir/kver"
		echo "$ver" >"$dir/version"
		echo "${debs[*]}" >"$dir/image.debs"
		touch "$dir/root/.extracted"
	fi
	printf '%s\n' "${hdebs[@]}" >"$dir/headers.debs"
	echo "$compiler" >"$dir/compiler"
	echo "$flavor $kver $ver $dir"
}

ensure_cache
[ $# -gt 0 ] || set -- "${FLAVORS[@]}"
for f in "$@"; do
	check_kernel "$f"
done
for f in "$@"; do
	# One fetch per kernel at a time: the suites' scripts fetch for themselves.
	mkdir -p "$CACHE/kernels"
	exec 6>"$CACHE/kernels/.$f.lock"
	flock 6
	fetch_one "$f"
	exec 6>&-
done

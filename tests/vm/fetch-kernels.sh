#!/bin/bash
# Fetches Debian's test kernels (6.1, 6.12) into the cache: image, modules, vmlinux for PVH boot.
#
# Usage: tests/vm/fetch-kernels.sh [6.1|6.12 ...]   (default: both)
# Writes $VIRTD_TEST_CACHE/kernels/<flavor>/{kver,version,vmlinuz,vmlinux,root/}
# and checks that the host's headers match the image (build-kmod.sh needs them).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

# apt-cache takes a second per call here, so every metapackage is resolved in
# one call and every candidate version in another.
declare -A DEP VER
resolve_all() {
	local metas=() pkgs=() f m cur="" line
	for f in "$@"; do
		metas+=("$(image_meta "$f")" "$(headers_meta "$f")")
	done
	while IFS= read -r line; do
		case "$line" in
		" "*Depends:*) [ -n "$cur" ] && [ -z "${DEP[$cur]:-}" ] && DEP[$cur]=${line##*Depends: } ;;
		*) cur=$line ;;
		esac
	done < <(apt-cache depends --important "${metas[@]}" 2>/dev/null)
	for m in "${metas[@]}"; do
		case "${DEP[$m]:-}" in
		linux-image-[0-9]* | linux-headers-[0-9]*) pkgs+=("${DEP[$m]}") ;;
		*) die "apt knows no package behind '$m': run 'apt-get update' (and check Debian 12's main is in sources.list)" ;;
		esac
	done
	while IFS=' ' read -r p v; do
		VER[$p]=$v
	done < <(apt-cache show --no-all-versions "${pkgs[@]}" 2>/dev/null |
		awk '/^Package: /{p=$2} /^Version: /{print p, $2}')
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
	local flavor=$1 dir meta pkg ver kver deb hmeta hpkg hver hinst
	dir=$(kernel_dir "$flavor")
	meta=$(image_meta "$flavor")
	pkg=${DEP[$meta]}
	ver=${VER[$pkg]:-}
	[ -n "$ver" ] || die "no candidate version for $pkg: run 'apt-get update'"
	kver=${pkg#linux-image-}
	mkdir -p "$CACHE/debs" "$dir"

	deb=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_amd64.deb" | head -n1)
	if [ -z "$deb" ]; then
		log "$flavor: downloading $pkg $ver"
		(cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
			(cd "$CACHE/debs" && apt-get download "$pkg=$ver") ||
			die "apt-get download $pkg=$ver failed (network? 'apt-get update'?)"
		deb=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_amd64.deb" | head -n1)
		[ -n "$deb" ] || die "apt-get download left no ${pkg}_${ver}_amd64.deb in $CACHE/debs"
	fi

	if up_to_date "$dir/vmlinux" "$dir/kver" "$dir/root/.extracted" -- "$deb" &&
		[ "$(cat "$dir/kver")" = "$kver" ]; then
		log "$flavor: $kver up to date in $dir"
	else
		log "$flavor: extracting $(basename "$deb")"
		rm -rf "$dir/root" "$dir/vmlinux" "$dir/vmlinuz"
		mkdir -p "$dir/root"
		dpkg -x "$deb" "$dir/root"
		local moddir
		moddir=$(find "$dir/root" -type d -path "*/lib/modules/$kver" | head -n1)
		[ -n "$moddir" ] || die "$deb holds no lib/modules/$kver"
		# depmod -b wants BASE/lib/modules/KVER; merged-/usr packages put it under usr/.
		local base=${moddir%/lib/modules/"$kver"}
		depmod -b "$base" "$kver" || die "depmod -b $base $kver failed (package 'kmod')"
		[ -s "$moddir/modules.dep" ] || die "depmod wrote no $moddir/modules.dep"
		ln -sfn "${moddir#"$dir"/}" "$dir/modules"
		cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
		extract_vmlinux "$dir/vmlinuz" "$dir/vmlinux"
		echo "$kver" >"$dir/kver"
		echo "$ver" >"$dir/version"
		touch "$dir/root/.extracted"
	fi

	# Headers for build-kmod.sh: same ABI and same package version as the image.
	hmeta=$(headers_meta "$flavor")
	hpkg=${DEP[$hmeta]}
	hver=${VER[$hpkg]:-}
	hinst=$(dpkg-query -W -f='${Version}' "linux-headers-$kver" 2>/dev/null || true)
	if [ "$hpkg" != "linux-headers-$kver" ] || [ "$hver" != "$ver" ]; then
		die "$flavor: image $pkg $ver but headers metapackage $hmeta points to $hpkg $hver; the archive is mid-update: run 'apt-get update' and retry"
	fi
	if [ ! -d "/usr/src/linux-headers-$kver" ] || [ "$hinst" != "$ver" ]; then
		die "$flavor: headers for $kver $ver are not installed (have: ${hinst:-none}): run scripts/install-deps.sh (or apt-get install $hmeta)"
	fi
	echo "$flavor $kver $ver $dir"
}

ensure_cache
[ $# -gt 0 ] || set -- "${FLAVORS[@]}"
resolve_all "$@"
for f in "$@"; do
	fetch_one "$f"
done

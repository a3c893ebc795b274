# Scenario: virthw loaded and unloaded 50 times (with a dump in between now and then); the kernel log stays clean.

modules_reset || fail reset "could not unload virthw/KVM"
need_virthw || return 1
have_ctl=0
command -v virtctl >/dev/null && have_ctl=1
dmesg_mark
cycles=50 i=0 bad=""
start=$(cut -d' ' -f1 /proc/uptime)
while [ "$i" -lt "$cycles" ]; do
	if ! out=$(modprobe virthw 2>&1); then
		bad="load $i: $out"
		break
	fi
	if [ "$have_ctl" = 1 ] && [ $((i % 10)) -eq 0 ] && ! out=$(virtctl hw --json 2>&1); then
		bad="dump after load $i: $out"
		break
	fi
	if ! out=$(rmmod virthw 2>&1); then
		bad="unload $i: $out"
		break
	fi
	i=$((i + 1))
done
end=$(cut -d' ' -f1 /proc/uptime)
if [ -z "$bad" ]; then
	pass cycles "$cycles load/unload cycles in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
else
	fail cycles "$bad"
fi
[ "$have_ctl" = 1 ] || skip dumps "virtctl is not in this image"
check unloaded test ! -e /sys/module/virthw
dmesg_clean dmesg-clean

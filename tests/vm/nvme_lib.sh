# SPDX-License-Identifier: MIT
# Helpers of the NVMe guest cases (sourced after lib.sh): start the model
# on a memory namespace of $SIZE_MB MiB, wait for its disk, and run a fio
# that must pass verify=crc32c.

# wait_disk DEV: the block device appears within 30 s (the driver's probe
# runs asynchronously and every register access is a round trip).
wait_disk() {
	wait_for 300 -b "$1"
}

start_nvme() { # ARGS...
	start_owner "pciem-nvme $*" pciem-nvme --cpu 0 --memory --size "${SIZE_MB}M" \
		--ready-file @READY@ "$@"
}

fio_dev=/dev/nvme0n1
fio_verify() { # NAME FIO-ARGS...: fio over $fio_dev, verify=crc32c, must pass
	name=$1
	shift
	out=$(fio --allow_file_create=0 --name="$name" --filename="$fio_dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --do_verify=1 --verify_fatal=1 "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || echo "$out" | grep -qiE 'verify: bad|crc32c: verify failed|err= *[1-9]'; then
		echo "$out" | grep -v "^ " | tail -n 25
		fail "fio $name failed (exit $rc)"
		return 1
	fi
	note "ok: fio $name: $(echo "$out" | grep -E '^ *(READ|WRITE):' | sed 's/  */ /g' | tr '\n' ';')"
}

# ext4_round_trip DEV MNT REF: a fresh ext4 on DEV takes a 4 MiB random
# file (kept at REF for later checks), which must read back the same after
# an unmount and a new mount.
ext4_round_trip() {
	mkdir -p "$2"
	if ! { mkfs.ext4 -q -F "$1" && mount -t ext4 "$1" "$2"; }; then
		fail "mkfs.ext4 or mount of $1 failed"
		return 1
	fi
	dd if=/dev/urandom of="$3" bs=1M count=4 2>/dev/null
	cp "$3" "$2/big" && sync
	umount "$2"
	mount -t ext4 "$1" "$2" && cmp -s "$3" "$2/big" ||
		fail "the file read back differs"
	umount "$2"
}

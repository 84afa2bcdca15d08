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
	out=$(fio --name="$name" --filename="$fio_dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --do_verify=1 --verify_fatal=1 "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || echo "$out" | grep -qiE 'verify: bad|crc32c: verify failed|err= *[1-9]'; then
		echo "$out" | grep -v "^ " | tail -n 25
		fail "fio $name failed (exit $rc)"
		return 1
	fi
	note "ok: fio $name: $(echo "$out" | grep -E '^ *(READ|WRITE):' | sed 's/  */ /g' | tr '\n' ';')"
}

# SPDX-License-Identifier: MIT
# An NVMe model killed with SIGKILL $PCIEM_SOAK_KILLS times (default 100)
# while fio writes and reads its disk: every time the I/O fails rather
# than hangs, the function goes away and the next model attaches.
. /pciem/tests/vm/lib.sh
. /pciem/tests/soak/soak_lib.sh
. /pciem/tests/vm/nvme_lib.sh

KILLS=${PCIEM_SOAK_KILLS:-100}
SIZE_MB=16
round=0
killed=0
# (lib.sh's wait_for counts with i: this loop counts rounds)
while [ $round -lt "$KILLS" ] && [ "$FAILED" -eq 0 ]; do
	round=$((round + 1))
	start_nvme --serial "KILL-$round" || break
	addr=$(first_addr)
	# the controller's number may move on while the last one's disk is
	# released: take whichever namespace appears
	disk=""
	t=0
	while [ -z "$disk" ] && [ $t -lt 300 ]; do
		disk=$(ls /dev/nvme*n1 2>/dev/null | head -n 1)
		[ -n "$disk" ] || sleep 0.1
		t=$((t + 1))
	done
	[ -b "$disk" ] || { fail "kill $round: no disk"; stop_model KILL; continue; }
	fio --allow_file_create=0 --name=kill --filename="$disk" --direct=1 --ioengine=libaio --rw=randrw \
		--bs=4k --iodepth=16 --size=8M --time_based --runtime=60 >/dev/null 2>&1 &
	io=$!
	# a moment into the I/O, different every time
	sleep "0.$((200 + (round * 37) % 800))"
	kill -0 "$io" 2>/dev/null || fail "kill $round: fio ended before the kill"
	stop_model KILL
	killed=$((killed + 1))
	wait_for 300 ! -e "/sys/bus/pci/devices/$addr" || fail "kill $round: $addr still present 30 s after SIGKILL"
	wait_exit "$io" 600 || { fail "kill $round: fio hangs 60 s after the model died"; kill -KILL "$io"; }
	wait "$io" 2>/dev/null
done
note "$killed models killed mid-I/O"
echo "SOAK kills: $killed"
finish

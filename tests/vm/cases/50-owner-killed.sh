# Killing the owning process (SIGKILL, no cleanup code runs) removes its
# functions cleanly, bound driver included; other devices stay.
. /pciem/tests/vm/lib.sh

[ -d /sys/bus/pci/drivers/pci-stub ] || modprobe pci-stub
start_model /pciem/examples/minimal.json || finish
bystander_pid=$MODEL_PID
bystander=$(first_addr)

start_model /pciem/examples/multifunction.json || finish
victims=$MODEL_ADDRS
for a in $victims; do
	v=$(sed 's/0x//' "$(sysfs_dev "$a")/vendor")
	d=$(sed 's/0x//' "$(sysfs_dev "$a")/device")
	echo "$v $d" >/sys/bus/pci/drivers/pci-stub/new_id 2>/dev/null
	expect_eq "driver of $a" "$(driver_of "$a")" "pci-stub"
done
stop_model KILL
for a in $victims; do
	wait_gone "$a" || fail "$a still present after SIGKILL of its owner"
done
[ -e "$(sysfs_dev "$bystander")" ] || fail "bystander $bystander disappeared"
pciemctl list | grep -q "$bystander" || fail "pciemctl list lost $bystander"

MODEL_PID=$bystander_pid
stop_model
wait_gone "$bystander" || fail "$bystander still present"
finish

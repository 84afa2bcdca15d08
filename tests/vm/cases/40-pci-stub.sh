# A stock driver (pci-stub, through new_id) binds and unbinds; a function is
# removed and re-added while another stays bound to its driver.
. /pciem/tests/vm/lib.sh

[ -d /sys/bus/pci/drivers/pci-stub ] || modprobe pci-stub
[ -d /sys/bus/pci/drivers/pci-stub ] || { fail "pci-stub is not available"; finish; }

start_model /pciem/examples/minimal.json || finish
keep_pid=$MODEL_PID
keep=$(first_addr)
ids=$(sed 's/0x//' "$(sysfs_dev "$keep")/vendor") 
ids="$ids $(sed 's/0x//' "$(sysfs_dev "$keep")/device")"
echo "$ids" >/sys/bus/pci/drivers/pci-stub/new_id
expect_eq "driver of $keep" "$(driver_of "$keep")" "pci-stub"

# Remove and re-add a second function three times; the first stays bound.
for round in 1 2 3; do
	start_model /pciem/examples/minimal.json || finish
	other=$(first_addr)
	expect_eq "round $round: driver of new function $other" "$(driver_of "$other")" "pci-stub"
	stop_model
	wait_gone "$other" || fail "round $round: $other still present after its owner exited"
	expect_eq "round $round: $keep still bound" "$(driver_of "$keep")" "pci-stub"
done

# Unbind and rebind by hand.
echo "$keep" >/sys/bus/pci/drivers/pci-stub/unbind
expect_eq "after unbind" "$(driver_of "$keep")" "none"
echo "$keep" >/sys/bus/pci/drivers/pci-stub/bind
expect_eq "after bind" "$(driver_of "$keep")" "pci-stub"

# Ending the owner removes the bound function: the driver lets go first.
MODEL_PID=$keep_pid
stop_model
wait_gone "$keep" || fail "$keep still present after its owner exited"
dmesg | grep -q "pci-stub $keep: claimed by stub" || fail "no pci-stub claim message for $keep"
echo "$ids" >/sys/bus/pci/drivers/pci-stub/remove_id
finish

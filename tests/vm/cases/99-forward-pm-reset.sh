# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy): a PM D3hot -> D0 transition of a function
# whose PMCSR leaves No_Soft_Reset clear is an internal reset (PCI PM 1.2),
# which pciem.ko hands to the model as it does an FLR, and the proxy sends
# to the server as DEVICE_RESET. The server is pciem-vfu-bad-server (a PM
# capability with No_Soft_Reset clear), the transitions come from setpci;
# D0 -> D0 and D0 -> D3hot reset nothing.
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/forward_lib.sh

command -v pciem-vfu-bad-server >/dev/null || { fail "pciem-vfu-bad-server is not in PATH"; finish; }
forward_tools

resets() { grep -c "the server's device was reset" "$OWNER_LOG"; }

log_mark
pciem-vfu-bad-server --socket "$SOCK" >/tmp/fwd-server.log 2>&1 &
SERVER_PID=$!
if start_proxy; then
	addr=$(first_addr)
	lspci -s "$addr" -vv | grep -q "Power Management" || fail "no PM capability on $addr"
	setpci -s "$addr" CAP_PM+4.w=0000	# D0 -> D0
	setpci -s "$addr" CAP_PM+4.w=0003	# D0 -> D3hot
	expect_eq "resets after D0 -> D0 and D0 -> D3hot" "$(resets)" 0
	setpci -s "$addr" CAP_PM+4.w=0000	# D3hot -> D0
	i=0	# the reset event reaches the proxy after the config write returns
	while [ "$(resets)" -lt 1 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "resets after D3hot -> D0" "$(resets)" 1
	expect_eq "PowerState after D3hot -> D0" "$(setpci -s "$addr" CAP_PM+4.w)" 0000
	stop_all
else
	stop_all
fi
log_clean "a PM soft reset forwarded"
finish

# pciemctl says in words what was wrong with a spec the kernel refuses,
# exits 1, and leaves nothing behind. Specs that the parser already
# refuses (typos, a seventh BAR) never reach the kernel.
. /pciem/tests/vm/lib.sh

bad=/tmp/bad-specs
mkdir -p "$bad"
cat >"$bad/npot.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e10", "bars": [ { "index": 2, "size": 3000 } ] }
J
cat >"$bad/overlap.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e11",
  "capabilities": [ { "type": "pm", "offset": "0x40" },
                    { "type": "msi", "vectors": 1, "offset": "0x44" } ] }
J
cat >"$bad/toobig.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e12", "bars": [ { "index": 0, "size": "64G" } ] }
J
cat >"$bad/seven.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e13", "bars": [
  { "index": 0, "size": "4K", "type": "mem32" }, { "index": 1, "size": "4K", "type": "mem32" },
  { "index": 2, "size": "4K", "type": "mem32" }, { "index": 3, "size": "4K", "type": "mem32" },
  { "index": 4, "size": "4K", "type": "mem32" }, { "index": 5, "size": "4K", "type": "mem32" },
  { "index": 6, "size": "4K", "type": "mem32" } ] }
J
cat >"$bad/typo.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e14", "bars": [ { "index": 0, "sise": "4K" } ] }
J
cat >"$bad/msix.json" <<'J'
{ "vendor": "0x1b36", "device": "0x7e15", "bars": [ { "index": 0, "size": "4K" } ],
  "capabilities": [ { "type": "msix", "vectors": 64, "table_bar": 2, "table_offset": 0,
                      "pba_bar": 0, "pba_offset": "0x800" } ] }
J

# expect_refusal SPEC PATTERN: pciemctl run exits 1 quickly and its message
# matches PATTERN (an extended regular expression).
expect_refusal() {
	out=$(timeout 10 pciemctl run "$bad/$1" 2>&1)
	rc=$?
	expect_eq "$1: exit status" "$rc" 1
	if echo "$out" | grep -qE "$2"; then
		note "ok: $1: $out"
	else
		fail "$1: message '$out' does not match /$2/"
	fi
}

expect_refusal npot.json 'BAR 2.*power of two.*EINVAL'
expect_refusal overlap.json 'capability 1.*overlaps.*EINVAL'
expect_refusal toobig.json 'BAR 0.*larger than.*window.*EFBIG'
expect_refusal seven.json '7 BARs.*at most 6'
expect_refusal typo.json 'bars\[0\]\.sise.*unknown key'
expect_refusal msix.json 'capability 0.*msix.*EINVAL'

# Nothing was left on the bus by the refused creates.
n=$(pciemctl list --json | grep -c '"address"')
expect_eq "functions left behind" "$n" 0

# Device-model programs refuse host options that would be silently
# ignored, before any function exists.
expect_model_refusal() { # PATTERN PROGRAM ARGS...: a usage error, status 2
	pat=$1
	shift
	out=$(timeout 10 "$@" 2>&1)
	rc=$?
	expect_eq "$*: exit status" "$rc" 2
	if echo "$out" | grep -qE "$pat"; then
		note "ok: $*: $out"
	else
		fail "$*: message '$out' does not match /$pat/"
	fi
}
expect_model_refusal 'bounces nothing needs a window.*--dma-window-mb' \
	pciem-nvme --memory --size 1M --dma-window-mb 0 --dma-window-no-bounce
expect_model_refusal 'busy polling already polls.*--poll-interval-us' \
	pciem-testdev --busy-poll --poll-interval-us 20
expect_model_refusal 'polling until idle .*--idle-poll-us.* is a way of sleeping' \
	pciem-nvme --memory --size 1M --idle-poll-us 100 --busy-poll
# Bad option values are usage errors too, with the same status as pciemctl's.
expect_model_refusal 'must be positive' pciem-nvme --memory --size 0
expect_model_refusal 'not a multiple of --lba-size' pciem-nvme --memory --size 1000
expect_model_refusal 'size' pciem-nvme --memory --size lots
expect_model_refusal 'cpu' pciem-testdev --cpu -1
expect_model_refusal 'unknown-flag' pciem-epf-test --unknown-flag
expect_model_refusal 'read-timeout' pciem-rtl-dma --read-timeout-us 0
expect_model_refusal 'power of two' pciem-fb --vram-mb 3
expect_model_refusal 'WIDTHxHEIGHT' pciem-fb --preferred 0x0
expect_model_refusal 'power of two' pciem-bochs --vram-mb 12
n=$(pciemctl list --json | grep -c '"address"')
expect_eq "functions left behind by refused models" "$n" 0

# Non-root: a clear message, not a bare errno.
grep -q '^nobody:' /etc/passwd 2>/dev/null ||
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
out=$(su nobody -s /bin/sh -c 'pciemctl info' 2>&1)
echo "$out" | grep -qiE 'root|permission' || fail "non-root pciemctl info said: $out"
note "non-root: $out"
finish

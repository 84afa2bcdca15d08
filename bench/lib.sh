# SPDX-License-Identifier: MIT
# Host-side helpers for the benchmarks that boot one guest (bash). Source it
# after setting prog: . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Guest scripts report "BENCH ..." lines with their figures and
# "BENCH-ERROR ..." lines for what they could not measure; they may source
# /pciem/tests/vm/lib.sh for start_testdev, start_owner and wait_dir.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_options OPTION... -- ARG...: the command line of a benchmark. For
# each OPTION "name", --name VALUE sets the variable name (dashes become
# underscores); an OPTION "name!" is a flag, --name sets it to 1. -h/--help
# calls usage and exits; anything else is refused (exit 2).
bench_options() {
	local opts=() o var found
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	while [[ $# -gt 0 ]]; do
		case "$1" in
		-h | --help) usage; exit 0 ;;
		esac
		found=0
		for o in "${opts[@]}"; do
			var=${o%!}
			[[ $1 == "--$var" ]] || continue
			found=1
			if [[ $o == *! ]]; then
				printf -v "${var//-/_}" 1
			else
				[[ $# -ge 2 ]] || { echo "$prog: $1 needs a value (see --help)" >&2; exit 2; }
				printf -v "${var//-/_}" '%s' "$2"
				shift
			fi
			break
		done
		[[ $found -eq 1 ]] || { echo "$prog: unknown argument '$1' (see --help)" >&2; exit 2; }
		shift
	done
}

# bench_positive VALUE...: each is a positive decimal number, or exit 2.
bench_positive() {
	local v
	for v in "$@"; do
		[[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "$prog: '$v' is not a positive number" >&2; exit 2; }
	done
}

# bench_sizes MAX LABEL SIZE...: each SIZE (bytes, with an optional K or M
# suffix) is 1..MAX bytes (LABEL says MAX in words), or exit 2; sets the
# array bytes to them in bytes. At least one.
bench_sizes() {
	local max=$1 label=$2 s b
	shift 2
	bytes=()
	for s in "$@"; do
		case "$s" in
		*[kK]) b=$((${s%?} * 1024)) ;;
		*[mM]) b=$((${s%?} * 1048576)) ;;
		*) bench_positive "$s"; b=$s ;;
		esac
		[[ $b -ge 1 && $b -le $max ]] || { echo "$prog: size '$s' is not 1..$label" >&2; exit 2; }
		bytes+=("$b")
	done
	[[ ${#bytes[@]} -gt 0 ]] || { echo "$prog: no --sizes" >&2; exit 2; }
}

# bench_tmpdir: sets bench_tmp to a directory removed on exit.
bench_tmpdir() {
	bench_tmp=$(mktemp -d)
	trap 'rm -rf "$bench_tmp"' EXIT
}

# bench_fio_guest SIZE_MB < GUEST-SCRIPT: for the NVMe benchmarks: the
# guest script read from stdin, with the fio helpers (bench/fio_guest.sh)
# in front, as $bench_tmp/guest.sh; img, a sparse SIZE_MB MiB raw file
# in $bench_tmp for QEMU's -device nvme. Call bench_tmpdir first.
bench_fio_guest() {
	img="$bench_tmp/qemu-nvme.img"
	truncate -s "${1}M" "$img"
	{ cat "$bench_root/bench/fio_guest.sh"; cat; } >"$bench_tmp/guest.sh"
}

# bench_guest OUT GUEST-SCRIPT [PCIEM-VM-OPTION...] -- [ARG...]: boots one
# guest with tools/pciem-vm, runs GUEST-SCRIPT (copied in) with the ARGs
# under busybox sh, output to OUT. Shows the guest's output on stderr when
# something went wrong (a BENCH-ERROR or FAILED line, or a non-zero exit);
# sets bench_status to the guest's exit status.
bench_guest() {
	local out=$1 script=$2
	shift 2
	local vm_opts=()
	while [[ $# -gt 0 && $1 != -- ]]; do
		vm_opts+=("$1")
		shift
	done
	[[ $# -gt 0 ]] && shift
	bench_status=0
	"$bench_root/tools/pciem-vm" "${vm_opts[@]}" --add "$script:/pciem/bench-guest.sh" \
		-- sh /pciem/bench-guest.sh "$@" >"$out" 2>&1 || bench_status=$?
	if grep -qE '^BENCH-ERROR|FAILED:' "$out" || [[ $bench_status -ne 0 ]]; then
		grep -v '^BENCH ' "$out" >&2 || true
		[[ $bench_status -eq 0 ]] || echo "$prog: guest exited with status $bench_status" >&2
	fi
}

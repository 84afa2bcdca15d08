# SPDX-License-Identifier: MIT
# The ABI fuzzer (tests/fuzz/abi) for a bounded time: the corpus replayed,
# then structured random calls on /dev/pciem, hostile create requests,
# odd mmaps, fork/close/exit races and create/destroy storms. Fails on a
# kernel report (its ABI-FUZZ-REPRO lines are the inputs: tests/vm/run
# saves them under build/fuzz-repro/) or on functions left behind.
# PCIEM_FUZZ_SECONDS sets the time (default 30, on each kernel; the
# debug-kernel lane and a developer chasing a report give it longer).
exec pciem-abi-fuzz --seconds "${PCIEM_FUZZ_SECONDS:-30}" --corpus /pciem/tests/fuzz/abi/corpus

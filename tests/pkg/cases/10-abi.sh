# SPDX-License-Identifier: MIT
# The foundation test (tests/vm/cases/10-abi.sh: the raw ABI, every
# refusal's errno, non-root callers, fault injection requests) against the
# DKMS-built module.
exec sh /pciem/tests/vm/cases/10-abi.sh

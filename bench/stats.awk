# SPDX-License-Identifier: MIT
# Statistics the benchmarks' tables share (awk; mawk and gawk). A
# benchmark prepends this file to its table program:
#   awk ... "$(cat "$bench_root/bench/stats.awk")"'
#   ...program...' "$out"

# sort_into A N S: sorted copy of A[1..N] into S[1..N] (N is small)
function sort_into(a, n, s,   i, j, t) {
	for (i = 1; i <= n; i++) s[i] = a[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
}
function median(a, n,   s) { sort_into(a, n, s); return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 }
function lo(a, n,   s) { sort_into(a, n, s); return s[1] }
function hi(a, n,   s) { sort_into(a, n, s); return s[n] }
# spread A N: "median (min-max)" of ratios
function spread(a, n) { return sprintf("%6.2fx (%.2f-%.2f)", median(a, n), lo(a, n), hi(a, n)) }

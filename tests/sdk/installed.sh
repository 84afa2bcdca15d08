#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SDK as installed, without packages, root or a guest: this build is
# installed into a scratch prefix (cmake --install, the rules debian/rules
# uses), every installed header must compile on its own with only the
# installed include directories (so none needs a private header of
# lib/src or anything else the installation lacks), and the out-of-tree
# model template must build against the prefix and pass its unit test.
# tests/pkg/run checks the same on the Debian packages, as root.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} BUILD_DIR SOURCE_DIR [CXX [FLAGS]]

Installs BUILD_DIR into BUILD_DIR/sdk-check/usr, compiles each installed
header alone with CXX (default g++), then configures, builds and runs the
tests of SOURCE_DIR/examples/out-of-tree-model against that prefix,
compiling and linking it with FLAGS (a sanitized build's flags). Exits
non-zero on the first failure, naming it.
USAGE
}
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
[[ $# -ge 2 && $# -le 4 ]] || { usage >&2; exit 2; }
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cxx=${3:-g++}
flags=${4:-}
work="$build/sdk-check"
prefix="$work/usr"
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
	{ echo "cmake --install failed: $work/install.log" >&2; exit 1; }
inc="$prefix/include"

n=0
while IFS= read -r h; do
	echo "#include <$h>" >"$work/one.cpp"
	if ! "$cxx" -std=c++23 -fsyntax-only -Wall -Wextra -Werror \
		-I"$inc" -I"$inc/pciem/kernel" "$work/one.cpp"; then
		echo "the installed <$h> does not compile on its own" >&2
		exit 1
	fi
	n=$((n + 1))
done < <(cd "$inc" && find pciem -name '*.hpp' | sort)
[[ $n -gt 0 ]] || { echo "no header installed under $inc/pciem" >&2; exit 1; }
echo "$n installed headers compile on their own"

model="$work/model"
cmake -S "$src/examples/out-of-tree-model" -B "$model" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
	>"$work/model-configure.log" ||
	{ echo "the template does not configure against $prefix: $work/model-configure.log" >&2; exit 1; }
grep -q "^PCIem_DIR:PATH=$prefix/" "$model/CMakeCache.txt" ||
	{ echo "the template found another PCIem: $(grep PCIem_DIR "$model/CMakeCache.txt")" >&2; exit 1; }
cmake --build "$model" -j2 >"$work/model-build.log" 2>&1 ||
	{ tail -n 30 "$work/model-build.log" >&2; echo "the template does not build against $prefix" >&2; exit 1; }
(cd "$model" && ctest --output-on-failure)
echo "the out-of-tree template builds against the installed SDK and passes its test"

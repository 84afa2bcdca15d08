// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// Running the external tools the oracle tests compare against (GNU as,
// objdump for x86 and AArch64).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pciem_test {

// Is @tool on PATH?
inline bool have_tool(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// @cmd's standard output (empty if it could not be started).
inline std::string run_capture(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        out.append(buf, n);
    pclose(p);
    return out;
}

} // namespace pciem_test

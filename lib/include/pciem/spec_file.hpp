// SPDX-License-Identifier: MIT
//
// Declarative device specs in JSON (comments allowed). A file holds one
// device object, or {"devices": [ ... ]} for several functions, e.g. the
// functions of one multi-function slot. The format is documented in
// docs/spec-format.md. Every error names the file, the JSON path
// ("bars[2].size") and what was expected; unknown keys are errors so a
// typo never silently falls back to a default.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pciem/device_spec.hpp"
#include "pciem/error.hpp"

namespace pciem {

// Reads and parses a spec file. Each DeviceSpec's origin() is the file
// name, with "devices[i]" appended for multi-device files.
Result<std::vector<DeviceSpec>> load_spec_file(const std::string& path);

// Parses spec text; `origin` stands for the file name in messages.
Result<std::vector<DeviceSpec>> parse_spec(std::string_view text, const std::string& origin);

} // namespace pciem

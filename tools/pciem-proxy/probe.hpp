// SPDX-License-Identifier: MIT
//
// probe_server(): asks a connected server everything mirror_device()
// needs (device info, each region, each interrupt index, config space)
// and checks it describes a PCI device.
#pragma once

#include "client.hpp"
#include "mirror.hpp"

namespace pciem::proxy {

Result<ServerDevice> probe_server(Client& client);

} // namespace pciem::proxy

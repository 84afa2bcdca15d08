// SPDX-License-Identifier: MIT
//
// Everything a device-model author needs, in one include:
//
//     #include <pciem/pciem.hpp>
//
// The model side (DeviceModel, DeviceSpec, register maps, DMA, interrupts,
// fault injection) and the hosts that run a model: KernelHost (pciem.ko),
// SimHost and SimDma (in-process, for unit tests) and serve_until_signal()
// for a model program's main(). The other headers in this folder are for
// tools (Control, Device, spec files, recordings) or are the hosts' own
// plumbing; include them by name when you need them.
#pragma once

#include "pciem/device_model.hpp"
#include "pciem/device_spec.hpp"
#include "pciem/dma.hpp"
#include "pciem/error.hpp"
#include "pciem/faults.hpp"
#include "pciem/interrupts.hpp"
#include "pciem/kernel_host.hpp"
#include "pciem/register.hpp"
#include "pciem/regmap.hpp"
#include "pciem/serve.hpp"
#include "pciem/sim_dma.hpp"
#include "pciem/sim_host.hpp"

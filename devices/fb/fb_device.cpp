// SPDX-License-Identifier: MIT
//
// The register chapter of pciem-fb (docs/fb.md), its interrupts and its
// resets. The display and command engines do the work.
#include "fb_device.hpp"

namespace pciem::fb {

FbDevice::FbDevice(FbOptions options)
    : options_(options), display_({options.vram_bytes, options.max_width, options.max_height},
                                  [this] { raise_cause(PFB_IRQ_VBLANK); }),
      engine_(*this, PFB_VRAM_BAR,
              {.fence =
                   [this](bool irq) {
                       if (irq) {
                           raise_cause(PFB_IRQ_FENCE);
                       }
                   },
               .error =
                   [this] {
                       raise_cause(PFB_IRQ_ERROR);
                   }}) {
    RegisterMap& regs = declare_bar(PFB_REG_BAR, "pciem-fb BAR0", PFB_REG_BAR_SIZE);
    declare_identity(regs);
    declare_display(regs);
    declare_interrupts(regs);
    declare_ring(regs);
    declare_errors(regs);
}

FbDevice::~FbDevice() {
    engine_.stop();
    display_.stop();
}

DeviceSpec FbDevice::spec() const {
    return DeviceSpec{}
        .ids(PFB_VENDOR_ID, PFB_DEVICE_ID)
        .class_code(PFB_CLASS)
        .interrupt_pin(InterruptPin::a)
        .bar(PFB_REG_BAR, Bar::mem64(PFB_REG_BAR_SIZE))
        .bar(PFB_VRAM_BAR, Bar::mem64(options_.vram_bytes).prefetchable().ram())
        .bar(PFB_MSIX_BAR, Bar::mem64(PFB_MSIX_BAR_SIZE))
        .pm()
        .msi(1)
        .msix(PFB_MSIX_VECTORS, PFB_MSIX_BAR, 0, PFB_MSIX_BAR, PFB_MSIX_PBA)
        .pcie(PCIEM_PCIE_ENDPOINT);
}

void FbDevice::on_start() {
    {
        std::unique_lock lk(picture_mutex_);
        vram_bound_ = true;
    }
    display_.start();
    engine_.start();
}

void FbDevice::on_stop() {
    engine_.stop();
    display_.stop();
    {
        // A device that goes away stops driving its interrupt line: left
        // high, the driver's handler would run for a device that can no
        // longer answer it until the function is gone.
        std::lock_guard lk(state_mutex_);
        if (intx_level_) {
            intx_level_ = false;
            (void)irq().set_intx(false);
        }
    }
    std::unique_lock lk(picture_mutex_);
    vram_bound_ = false;
}

void FbDevice::declare_identity(RegisterMap& regs) {
    regs.reg32(PFB_ID, "ID").ro(PFB_ID_VALUE);
    regs.reg32(PFB_VERSION, "VERSION").ro(PFB_VERSION_VALUE);
    regs.reg32(PFB_CAPS, "CAPS")
        .ro(PFB_CAP_XRGB8888 | PFB_CAP_RGB565 | PFB_CAP_RING | PFB_CAP_VBLANK);
    regs.reg32(PFB_VRAM_SIZE, "VRAM_SIZE").ro(options_.vram_bytes);
    regs.reg32(PFB_MAX_WIDTH, "MAX_WIDTH").ro(options_.max_width);
    regs.reg32(PFB_MAX_HEIGHT, "MAX_HEIGHT").ro(options_.max_height);
    regs.reg32(PFB_PREF_WIDTH, "PREF_WIDTH").ro(options_.preferred_width);
    regs.reg32(PFB_PREF_HEIGHT, "PREF_HEIGHT").ro(options_.preferred_height);
    // Constants a driver reads at probe: the kernel answers them itself.
    declare_shadow(PFB_REG_BAR, PFB_ID, 0x20);
}

void FbDevice::pending_changed() {
    display_.set_pending(
        static_cast<uint32_t>(width_->value()), static_cast<uint32_t>(height_->value()),
        static_cast<uint32_t>(stride_->value()), static_cast<uint32_t>(format_->value()));
}

void FbDevice::declare_display(RegisterMap& regs) {
    auto pending = [this](uint64_t, uint64_t) {
        pending_changed();
    };
    width_ = &regs.reg32(PFB_WIDTH, "WIDTH").rw().on_write(pending);
    height_ = &regs.reg32(PFB_HEIGHT, "HEIGHT").rw().on_write(pending);
    stride_ = &regs.reg32(PFB_STRIDE, "STRIDE").rw().on_write(pending);
    format_ = &regs.reg32(PFB_FORMAT, "FORMAT").rw().on_write(pending);
    // The write that arms the update: program the others first.
    scanout_offset_ =
        &regs.reg32(PFB_SCANOUT_OFFSET, "SCANOUT_OFFSET")
             .rw()
             .on_write([this](uint64_t, uint64_t v) { display_.arm(static_cast<uint32_t>(v)); });
    refresh_ = &regs.reg32(PFB_REFRESH_HZ, "REFRESH_HZ")
                    .rw(PFB_REFRESH_DEFAULT)
                    .on_write([this](uint64_t, uint64_t v) {
                        display_.set_refresh(static_cast<uint32_t>(v));
                    });
    display_ctrl_ =
        &regs.reg32(PFB_DISPLAY_CTRL, "DISPLAY_CTRL").rw().on_write([this](uint64_t, uint64_t v) {
            display_.set_enabled((v & PFB_DISPLAY_ENABLE) != 0);
        });
    regs.reg32(PFB_DISPLAY_STATUS, "DISPLAY_STATUS").ro([this] {
        return uint64_t{display_.status()};
    });
    regs.reg32(PFB_FRAME_COUNT, "FRAME_COUNT").ro([this] {
        return uint64_t{display_.frame_count()};
    });
    regs.reg32(PFB_ACTIVE_OFFSET, "ACTIVE_OFFSET").ro([this] {
        return uint64_t{display_.active_offset()};
    });
}

void FbDevice::declare_interrupts(RegisterMap& regs) {
    regs.reg32(PFB_IRQ_STATUS, "IRQ_STATUS").ro([this] {
        std::lock_guard lk(state_mutex_);
        return uint64_t{irq_status_};
    });
    irq_mask_ = &regs.reg32(PFB_IRQ_MASK, "IRQ_MASK").rw().on_write([this](uint64_t, uint64_t v) {
        set_mask(static_cast<uint32_t>(v));
    });
    regs.reg32(PFB_IRQ_ACK, "IRQ_ACK").wo().on_write([this](uint64_t, uint64_t v) {
        acknowledge(static_cast<uint32_t>(v));
    });
}

void FbDevice::declare_ring(RegisterMap& regs) {
    ring_base_ =
        &regs.reg64(PFB_RING_BASE, "RING_BASE").rw().on_write([this](uint64_t, uint64_t v) {
            engine_.set_base(v);
        });
    ring_size_ =
        &regs.reg32(PFB_RING_SIZE, "RING_SIZE").rw().on_write([this](uint64_t, uint64_t v) {
            engine_.set_size(static_cast<uint32_t>(v));
        });
    ring_ctrl_ =
        &regs.reg32(PFB_RING_CTRL, "RING_CTRL").rw().on_write([this](uint64_t, uint64_t v) {
            if ((v & PFB_RING_ENABLE) != 0) {
                ring_tail_->set(0); // enabling starts an empty ring
            }
            engine_.set_enabled((v & PFB_RING_ENABLE) != 0);
        });
    regs.reg32(PFB_RING_HEAD, "RING_HEAD").ro([this] { return uint64_t{engine_.head()}; });
    ring_tail_ =
        &regs.reg32(PFB_RING_TAIL, "RING_TAIL").rw().on_write([this](uint64_t, uint64_t v) {
            engine_.doorbell(static_cast<uint32_t>(v));
        });
    regs.reg32(PFB_RING_STATUS, "RING_STATUS").ro([this] { return uint64_t{engine_.status()}; });
    regs.reg64(PFB_FENCE_SEQNO, "FENCE_SEQNO").ro([this] { return engine_.fence_seqno(); });
}

void FbDevice::declare_errors(RegisterMap& regs) {
    regs.reg32(PFB_ERROR_CODE, "ERROR_CODE").ro([this] { return uint64_t{engine_.error_code()}; });
    regs.reg32(PFB_ERROR_OFFSET, "ERROR_OFFSET").ro([this] {
        return uint64_t{engine_.error_offset()};
    });
    regs.reg64(PFB_ERROR_ADDR, "ERROR_ADDR").ro([this] { return engine_.error_addr(); });
    regs.reg32(PFB_RESET, "RESET").wo().on_write([this](uint64_t, uint64_t v) {
        if (v == PFB_RESET_ENGINE) {
            engine_reset();
        } else if (v == PFB_RESET_DEVICE) {
            device_reset();
        }
    });
}

void FbDevice::engine_reset() {
    engine_.reset();
    ring_ctrl_->set(0);
    ring_tail_->set(0);
    acknowledge(PFB_IRQ_ERROR);
}

void FbDevice::device_reset() {
    engine_.reset();
    display_.reset();
    for (Register* r : {width_, height_, stride_, format_, scanout_offset_, display_ctrl_,
                        irq_mask_, ring_base_, ring_size_, ring_ctrl_, ring_tail_}) {
        r->set(0);
    }
    refresh_->set(PFB_REFRESH_DEFAULT);
    engine_.set_base(0);
    engine_.set_size(0);
    std::lock_guard lk(state_mutex_);
    irq_status_ = 0;
    irq_mask_bits_ = 0;
    update_intx_locked();
}

void FbDevice::raise_cause(uint32_t cause) {
    std::lock_guard lk(state_mutex_);
    irq_status_ |= cause;
    if ((irq_mask_bits_ & cause) != 0) {
        if (msix_enabled_) {
            const unsigned vector = cause == PFB_IRQ_VBLANK  ? PFB_VEC_VBLANK
                                    : cause == PFB_IRQ_FENCE ? PFB_VEC_FENCE
                                                             : PFB_VEC_ERROR;
            (void)irq().raise(vector); // masked: pending; disabled: dropped
        } else if (msi_enabled_) {
            (void)irq().raise(0);
        }
    }
    update_intx_locked();
}

void FbDevice::acknowledge(uint32_t causes) {
    std::lock_guard lk(state_mutex_);
    irq_status_ &= ~causes;
    update_intx_locked();
}

void FbDevice::set_mask(uint32_t mask) {
    std::lock_guard lk(state_mutex_);
    irq_mask_bits_ = mask & PFB_IRQ_ALL;
    update_intx_locked();
}

void FbDevice::update_intx_locked() {
    const bool level = !msix_enabled_ && !msi_enabled_ && (irq_status_ & irq_mask_bits_) != 0;
    if (level != intx_level_) {
        intx_level_ = level;
        (void)irq().set_intx(level);
    }
}

void FbDevice::on_irq_config(const IrqConfigEvent& event) {
    std::lock_guard lk(state_mutex_);
    if (event.kind == IrqConfigEvent::Kind::msix) {
        msix_enabled_ = event.enabled;
    } else if (event.kind == IrqConfigEvent::Kind::msi) {
        msi_enabled_ = event.enabled;
    }
    update_intx_locked();
}

picture::Picture FbDevice::picture() const {
    std::shared_lock lk(picture_mutex_);
    const auto mode = display_.scanout();
    const auto vram = ram(PFB_VRAM_BAR);
    if (!vram_bound_ || !mode || vram.empty()) {
        return picture::no_signal();
    }
    // The active set was checked against VRAM when it was latched.
    return picture::from_scanout(vram, mode->offset, mode->width, mode->height, mode->stride,
                                 mode->format == PFB_FMT_RGB565 ? picture::PixelFormat::rgb565
                                                                : picture::PixelFormat::xrgb8888);
}

} // namespace pciem::fb

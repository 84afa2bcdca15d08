// SPDX-License-Identifier: MIT
#include "pciem/unique_fd.hpp"

#include <unistd.h>

namespace pciem {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset(other.release());
    }
    return *this;
}

int UniqueFd::release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        // close() is not retried on EINTR: on Linux the descriptor is
        // released anyway and a retry could close someone else's fd.
        ::close(fd_);
    }
    fd_ = fd;
}

} // namespace pciem

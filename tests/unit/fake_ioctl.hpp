// SPDX-License-Identifier: MIT
//
// A test binary that plays pciem.ko itself: it defines ioctl(), which
// wins over libc's for libpciem's calls too (static or shared), answers
// the requests on its fake node (a plain temporary file, recognised by
// device and inode) with fake_ioctl(), and passes every other fd on to
// the real ioctl(). Include in exactly one file of the binary, after
// defining (in an unnamed namespace is fine):
//     bool is_fake_node(int fd);
//     int fake_ioctl(unsigned long request, void* arg);
#pragma once

#include <cstdarg>

#include <dlfcn.h>
#include <sys/ioctl.h>

extern "C" int ioctl(int fd, unsigned long request, ...) noexcept {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (is_fake_node(fd)) {
        return fake_ioctl(request, arg);
    }
    using Ioctl = int (*)(int, unsigned long, ...);
    static const auto next = reinterpret_cast<Ioctl>(::dlsym(RTLD_NEXT, "ioctl"));
    return next(fd, request, arg);
}

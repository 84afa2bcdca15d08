// SPDX-License-Identifier: MIT
//
// The one error type of libpciem. Every fallible call returns Result<T>;
// nothing throws across the library boundary, so tools decide how to
// report and which exit code to use.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace pciem {

// errnum is a positive errno (0 when the failure has no errno, e.g. a
// malformed spec file). message is a full sentence for a human: what was
// wrong and, where there is one, what to do about it.
struct Error {
    int errnum = 0;
    std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for `return std::unexpected(Error{...})`.
inline std::unexpected<Error> fail(int errnum, std::string message) {
    return std::unexpected(Error{errnum, std::move(message)});
}

} // namespace pciem

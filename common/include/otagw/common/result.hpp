// SPDX-License-Identifier: GPL-2.0-or-later
// Result<T>: a value or an Error naming what was wrong. Runtime code returns these instead of
// throwing (CONVENTIONS.md); messages never carry key material.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace otagw {

// What kind of failure, for callers that act on it (an API status, a reason code, a retry):
// nothing branches on the words of a message.
enum class Errc : uint8_t {
    Unspecified,
    Invalid,    // a value wrong in itself (a malformed number, hex, JSON)
    OutOfRange, // a well-formed value outside what is served (an MSISDN outside the ranges)
    NotFound,
    Conflict, // taken already, or contradicts what is stored
    Busy,     // not now (a database locked by another writer): worth trying again
    Io,       // storage or network I/O failed
    Corrupt,  // stored data is damaged
};

struct Error {
    std::string message;
    Errc code = Errc::Unspecified;
};

inline Error make_error(std::string message, Errc code = Errc::Unspecified) {
    return Error{std::move(message), code};
}

// The store could not keep it now (locked, full, failing, damaged): nothing was kept, and the
// same call is worth making again later (503 with Retry-After, ESME_RX_T_APPN).
inline bool storage_unavailable(const Error& e) {
    return e.code == Errc::Busy || e.code == Errc::Io || e.code == Errc::Corrupt;
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(v_); }
    Error&& take_error() { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error)), failed_(true) {}
    static Status success() { return Status(); }

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return error_; }
    Error&& take_error() { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

} // namespace otagw

// Propagate the error of a Result/Status expression, else bind its value.
#define OTAGW_TRY_STATUS(expr)                                                                     \
    do {                                                                                           \
        auto otagw_try_status_ = (expr);                                                           \
        if (!otagw_try_status_.ok())                                                               \
            return otagw_try_status_.take_error();                                                 \
    } while (0)

// Propagate the error of a Result expression, else move its value into `lhs`.
#define OTAGW_TRY_ASSIGN(lhs, expr)                                                                \
    do {                                                                                           \
        auto otagw_try_assign_ = (expr);                                                           \
        if (!otagw_try_assign_.ok())                                                               \
            return otagw_try_assign_.take_error();                                                 \
        lhs = std::move(otagw_try_assign_).value();                                                \
    } while (0)

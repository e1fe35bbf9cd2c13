// Status and Result<T>: the error currency of the project.
//
// Every fallible function across a module boundary returns a Status or a Result<T>;
// exceptions from third-party libraries are caught at the adapter and turned into one.
// A StatusCode maps to exactly one HTTP status (see http_status.h) and back, so a code
// survives the hops sidecar -> interLink -> virtual kubelet.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace il {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // 400: the caller sent something malformed
  kUnauthenticated,     // 401: no credentials
  kPermissionDenied,    // 403: wrong credentials
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409/412: state does not allow the operation
  kPayloadTooLarge,     // 413
  kResourceExhausted,   // 429
  kInternal,            // 500: a bug or an unexpected local failure
  kUnimplemented,       // 501
  kBadGateway,          // 502: the next hop answered with an error
  kUnavailable,         // 503: the next hop cannot be reached
  kDeadlineExceeded,    // 504: the next hop did not answer in time
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: pod default/x is unknown"
  std::string ToString() const;
  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& o) const { return code_ == o.code_ && message_ == o.message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok())
      v_ = Status(StatusCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace il

// Propagates a non-OK Status from an expression returning Status.
#define IL_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::il::Status il_status_ = (expr);        \
    if (!il_status_.ok()) return il_status_; \
  } while (0)

#define IL_CONCAT_INNER(a, b) a##b
#define IL_CONCAT(a, b) IL_CONCAT_INNER(a, b)
// IL_ASSIGN_OR_RETURN(auto x, Fallible()); propagates the error status.
#define IL_ASSIGN_OR_RETURN(lhs, expr) \
  IL_ASSIGN_OR_RETURN_IMPL(IL_CONCAT(il_r_, __LINE__), lhs, expr)
#define IL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

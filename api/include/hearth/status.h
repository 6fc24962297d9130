// hearth: one status type across the public API.
//
// Every operation returns a Status (or a Result<T>, which carries either a
// value or a non-OK Status). Success costs nothing; "not found" and
// "wrong expected version" are statuses, never exceptions. Exceptions thrown
// by dependencies (RocksDB, Cap'n Proto, OpenSSL) are caught inside the store
// and turned into a Status here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hearth {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kNotFound = 1,          // no such stream, subject, position or store
    kInvalidArgument = 2,   // the request is malformed; nothing was changed
    kConflict = 3,          // wrong expected version (retryable after re-read)
    kCorruption = 4,        // stored bytes fail a check; names the position
    kIOError = 5,           // the file system or RocksDB failed
    kLocked = 6,            // another process holds the store
    kWrongKey = 7,          // the passphrase or key file does not open the store
    kErased = 8,            // the data subject was erased (crypto-shredded)
    kNotSupported = 9,      // e.g. a store written by a newer format version
    kPermissionDenied = 10, // outside the caller's scopes
    kTooLarge = 11,         // an event or request exceeds a configured limit
    kBusy = 12,             // retryable: the store is shutting down or overloaded
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Locked(std::string msg) { return {Code::kLocked, std::move(msg)}; }
  static Status WrongKey(std::string msg) { return {Code::kWrongKey, std::move(msg)}; }
  static Status Erased(std::string msg) { return {Code::kErased, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }

  // "Conflict: stream case-17 expected version 3, actual 4"
  std::string ToString() const;
  // The name of a code, e.g. "Conflict".
  static std::string_view CodeName(Code code);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  // REQUIRES: a non-OK status when constructed from one.

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace hearth

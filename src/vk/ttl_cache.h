// TtlCache: a small, bounded map from string keys to values that expire, for the
// kubelet API's TokenReview and SubjectAccessReview results (the kubelet caches both so
// that a burst of `kubectl logs` does not become a burst of reviews).
//
// Each entry carries its own time to live (allowed and denied decisions live for
// different times). When full, the least recently used entry goes. Time comes from an
// injected Clock so tests need no sleeps.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/clock.h"
#include "core/mutex.h"

namespace il::vk {

template <typename V>
class TtlCache {
 public:
  TtlCache(size_t capacity, std::shared_ptr<Clock> clock)
      : capacity_(capacity), clock_(std::move(clock)) {}

  // The value if present and not expired (an expired one is dropped).
  std::optional<V> Get(const std::string& key) {
    MutexLock lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    if (clock_->Now() >= it->second.expires) {
      lru_.erase(it->second.pos);
      map_.erase(it);
      return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return it->second.value;
  }

  // Stores `value` for `ttl`; a ttl of zero or less stores nothing.
  void Put(const std::string& key, V value, Clock::Duration ttl) {
    if (ttl <= Clock::Duration::zero() || capacity_ == 0) return;
    MutexLock lock(mu_);
    auto expires = clock_->Now() + ttl;
    if (auto it = map_.find(key); it != map_.end()) {
      it->second.value = std::move(value);
      it->second.expires = expires;
      lru_.splice(lru_.begin(), lru_, it->second.pos);
      return;
    }
    while (map_.size() >= capacity_) {
      map_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    map_.emplace(key, Entry{std::move(value), expires, lru_.begin()});
  }

  size_t size() const {
    MutexLock lock(mu_);
    return map_.size();
  }

 private:
  struct Entry {
    V value;
    Clock::TimePoint expires;
    std::list<std::string>::iterator pos;
  };
  const size_t capacity_;
  const std::shared_ptr<Clock> clock_;
  mutable Mutex mu_;
  std::list<std::string> lru_ IL_GUARDED_BY(mu_);  // most recently used first
  std::unordered_map<std::string, Entry> map_ IL_GUARDED_BY(mu_);
};

}  // namespace il::vk

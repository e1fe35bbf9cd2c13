// Mutex, MutexLock and CondVar: std::mutex and its companions with Clang's thread-safety
// annotations, so that the Clang build (-Wthread-safety -Werror, the tsan preset) proves that
// every member marked IL_GUARDED_BY(mu_) is touched only with mu_ held, and that functions
// marked IL_REQUIRES(mu_) are only called so. GCC builds see plain std types.
//
//   class Cache {
//     Mutex mu_;
//     CondVar cv_;
//     std::map<K, V> map_ IL_GUARDED_BY(mu_);
//     void EvictLocked() IL_REQUIRES(mu_);
//   };
//   MutexLock l(mu_);
//   while (map_.empty()) cv_.Wait(mu_);  // a loop, not a predicate lambda: the analysis
//                                        // cannot see into lambdas
//
// Thread-safety: these are the primitives.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <stop_token>
#include <utility>

#if defined(__clang__)
#define IL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define IL_THREAD_ANNOTATION(x)
#endif

#define IL_CAPABILITY(x) IL_THREAD_ANNOTATION(capability(x))
#define IL_SCOPED_CAPABILITY IL_THREAD_ANNOTATION(scoped_lockable)
#define IL_GUARDED_BY(x) IL_THREAD_ANNOTATION(guarded_by(x))
#define IL_PT_GUARDED_BY(x) IL_THREAD_ANNOTATION(pt_guarded_by(x))
#define IL_ACQUIRED_BEFORE(...) IL_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define IL_REQUIRES(...) IL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define IL_REQUIRES_SHARED(...) IL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define IL_ACQUIRE(...) IL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define IL_ACQUIRE_SHARED(...) IL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define IL_RELEASE(...) IL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define IL_RELEASE_SHARED(...) IL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define IL_TRY_ACQUIRE(...) IL_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define IL_EXCLUDES(...) IL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define IL_RETURN_CAPABILITY(x) IL_THREAD_ANNOTATION(lock_returned(x))
#define IL_NO_THREAD_SAFETY_ANALYSIS IL_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace il {

class IL_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() IL_ACQUIRE() { mu_.lock(); }
  void unlock() IL_RELEASE() { mu_.unlock(); }
  bool try_lock() IL_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope (or from a successful TryLock).
class IL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) IL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  // Takes over `mu`, already held (after a successful mu.try_lock()).
  MutexLock(Mutex& mu, std::adopt_lock_t) IL_REQUIRES(mu) : mu_(mu) {}
  ~MutexLock() IL_RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Lets go early (and again at the end of the scope only if re-taken).
  void Unlock() IL_RELEASE() {
    mu_.unlock();
    held_ = false;
  }
  void Lock() IL_ACQUIRE() {
    mu_.lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A reader-writer mutex: many holders in shared mode (ReaderMutexLock), or one exclusive
// holder (WriterMutexLock).
class IL_CAPABILITY("mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() IL_ACQUIRE() { mu_.lock(); }
  void unlock() IL_RELEASE() { mu_.unlock(); }
  void lock_shared() IL_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() IL_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds `mu` exclusively for its scope.
class IL_SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mu) IL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterMutexLock() IL_RELEASE() { mu_.unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Holds `mu` shared for its scope.
class IL_SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mu) IL_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderMutexLock() IL_RELEASE() { mu_.unlock_shared(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

// A condition variable waited on with a held Mutex.
class CondVar {
 public:
  void Wait(Mutex& mu) IL_REQUIRES(mu) { cv_.wait(mu); }
  // False on timeout.
  template <class Rep, class Period>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> d) IL_REQUIRES(mu) {
    return cv_.wait_for(mu, d) == std::cv_status::no_timeout;
  }
  template <class Clock, class Duration>
  bool WaitUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> t) IL_REQUIRES(mu) {
    return cv_.wait_until(mu, t) == std::cv_status::no_timeout;
  }
  // The same, also woken when `stop` is requested: false then (and on timeout).
  // std's stop_token waits take only predicates; this one returns after one wait, so
  // callers loop on their condition as above.
  bool Wait(Mutex& mu, const std::stop_token& stop) IL_REQUIRES(mu) {
    bool waited = false;
    cv_.wait(mu, stop, [&waited] { return std::exchange(waited, true); });
    return !stop.stop_requested();
  }
  template <class Clock, class Duration>
  bool WaitUntil(Mutex& mu, const std::stop_token& stop, std::chrono::time_point<Clock, Duration> t)
      IL_REQUIRES(mu) {
    bool waited = false;
    cv_.wait_until(mu, stop, t, [&waited] { return std::exchange(waited, true); });
    return !stop.stop_requested() && Clock::now() < t;
  }
  template <class Rep, class Period>
  bool WaitFor(Mutex& mu, const std::stop_token& stop, std::chrono::duration<Rep, Period> d)
      IL_REQUIRES(mu) {
    return WaitUntil(mu, stop, std::chrono::steady_clock::now() + d);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace il

// StateFile: the set of pods this VK has sent to the backend, kept on disk so that a
// restarted VK can delete from the backend the pods that vanished from Kubernetes while
// it was down (StateFile config key; optional).
//
// An append-only journal of "+ uid ns name" / "- uid" lines, compacted at Open and when
// it grows to four times the live set; each line is one write(2), so a kill -9 loses at
// most a torn last line, which Open ignores.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <map>
#include <string>

#include "core/mutex.h"
#include "core/status.h"

namespace il::vk {

struct BackendPodRef {
  std::string ns;
  std::string name;
};

class StateFile {
 public:
  StateFile() = default;  // disabled: every call is a no-op
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // Reads (and compacts) the journal at `path`, creating it if needed.
  Status Open(const std::string& path);
  bool enabled() const IL_EXCLUDES(mu_) {
    MutexLock l(mu_);
    return fd_ >= 0;
  }

  void Add(const std::string& uid, const std::string& ns, const std::string& name);
  void Remove(const std::string& uid);
  std::map<std::string, BackendPodRef> Entries() const;

 private:
  Status Compact() IL_REQUIRES(mu_);
  void Append(const std::string& line) IL_REQUIRES(mu_);

  mutable Mutex mu_;
  std::string path_ IL_GUARDED_BY(mu_);
  int fd_ IL_GUARDED_BY(mu_) = -1;
  size_t lines_ IL_GUARDED_BY(mu_) = 0;
  std::map<std::string, BackendPodRef> live_ IL_GUARDED_BY(mu_);
};

}  // namespace il::vk

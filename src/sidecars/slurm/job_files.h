// Files in a job directory that the job itself can replace: container logs, .started and
// .status markers, job.status. The job runs as a user who can write there, so it could swap
// any of them for a symlink to a file only the sidecar may read, for /dev/zero, or for a FIFO
// that blocks a reader forever. Every read therefore opens the file relative to the job
// directory (itself opened without following a symlink) with O_NOFOLLOW | O_NONBLOCK, accepts
// only a regular file with a single link, and reads a bounded number of bytes.
//
// Thread-safety: plain functions; a JobFile belongs to one reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace il::slurm {

// An open regular file of a job directory.
class JobFile {
 public:
  // kNotFound when missing; kFailedPrecondition when it is not a plain regular file (symlink,
  // FIFO, device, directory, hard link) or the directory is a symlink.
  static Result<JobFile> Open(const std::string& dir, const std::string& name);
  JobFile(JobFile&& o) noexcept : fd_(o.fd_), size_(o.size_), inode_(o.inode_) { o.fd_ = -1; }
  JobFile& operator=(JobFile&& o) noexcept;
  JobFile(const JobFile&) = delete;
  JobFile& operator=(const JobFile&) = delete;
  ~JobFile();

  uint64_t size() const { return size_; }
  uint64_t inode() const { return inode_; }
  // Up to `max` bytes from `offset` (fewer at the end of the file).
  Result<std::string> ReadAt(uint64_t offset, size_t max) const;
  // Where the last `lines` lines start, found by reading backwards in bounded chunks and
  // never going further back than `max_bytes` from the end.
  uint64_t TailOffset(size_t lines, uint64_t max_bytes) const;

 private:
  explicit JobFile(int fd) : fd_(fd) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t inode_ = 0;
};

// The content of a small marker file (at most `cap` bytes are read); nullopt when it is
// missing or not a plain regular file.
std::optional<std::string> ReadSmallJobFile(const std::string& dir, const std::string& name,
                                            size_t cap = 4096);
// True when `name` exists in `dir` as a plain regular file.
bool JobFileExists(const std::string& dir, const std::string& name);

}  // namespace il::slurm

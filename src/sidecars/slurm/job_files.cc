#include "sidecars/slurm/job_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace il::slurm {
namespace {

constexpr size_t kBackwardChunk = size_t{64} << 10;

int OpenDir(const std::string& dir) {
  return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

}  // namespace

Result<JobFile> JobFile::Open(const std::string& dir, const std::string& name) {
  int dfd = OpenDir(dir);
  if (dfd < 0) {
    if (errno == ENOENT) return NotFound(dir + " does not exist");
    return FailedPrecondition("job directory " + dir + " cannot be opened: " + strerror(errno));
  }
  int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  int err = errno;
  ::close(dfd);
  if (fd < 0) {
    if (err == ENOENT) return NotFound(dir + "/" + name + " does not exist");
    if (err == ELOOP) return FailedPrecondition(dir + "/" + name + " is a symbolic link");
    return FailedPrecondition(dir + "/" + name + " cannot be opened: " + strerror(err));
  }
  JobFile f(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return FailedPrecondition(dir + "/" + name + " cannot be examined");
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition(dir + "/" + name + " is not a regular file");
  }
  if (st.st_nlink != 1) {
    return FailedPrecondition(dir + "/" + name + " has other hard links");
  }
  f.size_ = static_cast<uint64_t>(st.st_size);
  f.inode_ = static_cast<uint64_t>(st.st_ino);
  return f;
}

JobFile& JobFile::operator=(JobFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    size_ = o.size_;
    inode_ = o.inode_;
    o.fd_ = -1;
  }
  return *this;
}

JobFile::~JobFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> JobFile::ReadAt(uint64_t offset, size_t max) const {
  std::string buf(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::pread(fd_, buf.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("read failed: ") + strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return buf;
}

uint64_t JobFile::TailOffset(size_t lines, uint64_t max_bytes) const {
  const uint64_t floor = size_ > max_bytes ? size_ - max_bytes : 0;
  if (lines == 0) return size_;
  uint64_t end = size_;
  size_t newlines = 0;
  bool last_byte = true;  // a final '\n' ends the last line instead of starting a new one
  while (end > floor) {
    uint64_t start = std::max<uint64_t>(floor, end > kBackwardChunk ? end - kBackwardChunk : 0);
    auto chunk = ReadAt(start, static_cast<size_t>(end - start));
    if (!chunk.ok() || chunk->size() != end - start) return floor;
    for (size_t i = chunk->size(); i-- > 0;) {
      if ((*chunk)[i] != '\n') {
        last_byte = false;
        continue;
      }
      if (last_byte) {
        last_byte = false;
        continue;
      }
      if (++newlines == lines) return start + i + 1;
    }
    end = start;
  }
  return floor;
}

std::optional<std::string> ReadSmallJobFile(const std::string& dir, const std::string& name,
                                            size_t cap) {
  auto f = JobFile::Open(dir, name);
  if (!f.ok()) return std::nullopt;
  auto text = f->ReadAt(0, std::min<uint64_t>(cap, f->size()));
  if (!text.ok()) return std::nullopt;
  return *text;
}

bool JobFileExists(const std::string& dir, const std::string& name) {
  int dfd = OpenDir(dir);
  if (dfd < 0) return false;
  struct stat st;
  bool ok = ::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  ::close(dfd);
  return ok;
}

}  // namespace il::slurm

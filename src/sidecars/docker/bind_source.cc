#include "sidecars/docker/bind_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace il::docker {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Status Refuse(const BindCheck& c, const std::string& at, const std::string& why) {
  return FailedPrecondition("bind source " + c.base + (c.rel.empty() ? "" : "/" + c.rel) + ": " +
                            at + " " + why);
}

}  // namespace

Status CheckBindSource(const BindCheck& c) {
  Fd dir(::open(c.base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return Refuse(c, c.base, std::string("cannot be opened: ") + strerror(errno));
  std::string walked = c.base;
  size_t start = 0;
  while (start < c.rel.size()) {
    size_t end = c.rel.find('/', start);
    if (end == std::string::npos) end = c.rel.size();
    std::string part = c.rel.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    walked += "/" + part;
    if (part == "..") return Refuse(c, walked, "climbs out of the volume");
    int fd = ::openat(dir.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && c.create) {
      if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Refuse(c, walked, std::string("cannot be created: ") + strerror(errno));
      }
      fd = ::openat(dir.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      return Refuse(
          c, walked,
          errno == ENOENT ? "does not exist" : std::string("cannot be opened: ") + strerror(errno));
    }
    dir.Reset(fd);
    struct stat st;
    if (::fstat(dir.get(), &st) != 0) return Refuse(c, walked, "cannot be examined");
    if (S_ISLNK(st.st_mode)) {
      return Refuse(c, walked, "is a symbolic link; docker-sd does not follow links in volumes");
    }
    if (start < c.rel.size() && !S_ISDIR(st.st_mode)) {
      return Refuse(c, walked, "is not a directory");
    }
  }
  return Status::Ok();
}

}  // namespace il::docker

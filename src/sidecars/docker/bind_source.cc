#include "sidecars/docker/bind_source.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

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

// Walks c.rel below c.base; `dir` ends holding an O_PATH descriptor of the checked entry.
Status Walk(const BindCheck& c, Fd& dir) {
  dir.Reset(::open(c.base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
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

// Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool octal = s[i] == '\\' && i + 3 < s.size();
    for (size_t k = 1; octal && k <= 3; ++k) octal = s[i + k] >= '0' && s[i + k] <= '7';
    if (octal) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (!(fields >> id >> parent >> devno >> root >> point)) continue;
    point = Unescape(point);
    if (point == dir || point.rfind(dir + "/", 0) == 0) found.push_back(point);
  }
  return found;
}

// Detaches whatever is mounted at `path`, however many times (stacked mounts).
Status Detach(const std::string& path) {
  for (int i = 0; i < 64; ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return Status::Ok();  // not (or no longer) a mount
    if (errno == EPERM) return Status::Ok();                      // cannot have mounted it either
    return Internal("cannot unmount " + path + ": " + strerror(errno));
  }
  return Internal("cannot unmount " + path + ": still mounted");
}

}  // namespace

Status CheckBindSource(const BindCheck& c) {
  Fd dir;
  return Walk(c, dir);
}

Result<PinOutcome> PinBindSource(const BindCheck& c) {
  Fd src;
  IL_RETURN_IF_ERROR(Walk(c, src));
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return Refuse(c, c.base + "/" + c.rel, "cannot be examined");
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path pin(c.pin);
  fs::create_directories(pin.parent_path(), ec);
  if (ec) return Internal("cannot create " + pin.parent_path().string() + ": " + ec.message());
  if (::chmod(pin.parent_path().c_str(), 0700) != 0) {
    return Internal("cannot chmod " + pin.parent_path().string());
  }
  IL_RETURN_IF_ERROR(Detach(c.pin));
  // Replace whatever is there (a pin of the other kind, a fallback symlink).
  if (::unlink(c.pin.c_str()) != 0 && errno != ENOENT &&
      (errno != EISDIR || ::rmdir(c.pin.c_str()) != 0)) {
    return Internal("cannot replace the pin " + c.pin + ": " + strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(c.pin.c_str(), 0700) != 0) {
      return Internal("cannot create the pin " + c.pin + ": " + strerror(errno));
    }
  } else {
    int fd = ::open(c.pin.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot create the pin " + c.pin + ": " + strerror(errno));
    ::close(fd);
  }
  std::string proc = "/proc/self/fd/" + std::to_string(src.get());
  if (::mount(proc.c_str(), c.pin.c_str(), nullptr, MS_BIND, nullptr) == 0) {
    return PinOutcome{true, ""};
  }
  PinOutcome fallback{false, std::string("mount: ") + strerror(errno)};
  if ((S_ISDIR(st.st_mode) ? ::rmdir(c.pin.c_str()) : ::unlink(c.pin.c_str())) != 0) {
    return Internal("cannot replace the pin " + c.pin + ": " + strerror(errno));
  }
  std::string target = c.base + (c.rel.empty() ? "" : "/" + c.rel);
  if (::symlink(target.c_str(), c.pin.c_str()) != 0) {
    return Internal("cannot link the pin " + c.pin + ": " + strerror(errno));
  }
  return fallback;
}

Status UnpinBelow(const std::string& dir) {
  std::error_code ec;
  std::string real = std::filesystem::weakly_canonical(dir, ec).string();
  if (ec) real = dir;
  while (!real.empty() && real.size() > 1 && real.back() == '/') real.pop_back();
  // Deepest first, so a mount below another one is detached before it.
  for (int round = 0; round < 8; ++round) {
    auto found = MountsBelow(real);
    if (found.empty()) return Status::Ok();
    std::sort(found.begin(), found.end(), std::greater<>());
    for (const auto& m : found) IL_RETURN_IF_ERROR(Detach(m));
  }
  return Internal("mounts remain below " + dir);
}

}  // namespace il::docker

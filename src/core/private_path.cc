#include "core/private_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace il {
namespace {

namespace fs = std::filesystem;

std::string Octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode & 07777);
  return buf;
}

Status Refuse(const std::string& what, const std::string& path, const std::string& why) {
  return FailedPrecondition(what + " " + path + " " + why +
                            ": refusing to start (another local user could control this "
                            "daemon's state); fix the ownership/mode or choose another path");
}

Status CheckOwnerAndMode(const std::string& what, const std::string& path, const struct stat& st) {
  const uid_t me = ::geteuid();
  if (st.st_uid != me) {
    return Refuse(what, path,
                  "is owned by uid " + std::to_string(st.st_uid) + ", not by this daemon's uid " +
                      std::to_string(me));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Refuse(what, path, "is group- or world-writable (mode " + Octal(st.st_mode) + ")");
  }
  return Status::Ok();
}

// Every ancestor: owned by root or us; writable by others only with the sticky bit.
Status CheckAncestors(const fs::path& dir) {
  const uid_t me = ::geteuid();
  for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) {
      return Refuse("directory", p.string(), std::string("cannot be examined: ") + strerror(errno));
    }
    if (st.st_uid != 0 && st.st_uid != me) {
      return Refuse(
          "directory", p.string(),
          "(an ancestor of " + dir.string() + ") is owned by uid " + std::to_string(st.st_uid));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
      return Refuse("directory", p.string(),
                    "(an ancestor of " + dir.string() +
                        ") is group- or world-writable without the sticky bit (mode " +
                        Octal(st.st_mode) + ")");
    }
    if (p == p.root_path()) break;
  }
  return Status::Ok();
}

}  // namespace

Status EnsurePrivateDir(const std::string& dir_in, unsigned mode) {
  if (dir_in.empty()) return InvalidArgument("empty data directory path");
  fs::path dir = fs::absolute(fs::path(dir_in)).lexically_normal();
  if (dir.has_filename() == false && dir != dir.root_path()) dir = dir.parent_path();
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Refuse("data directory", dir.string(),
                    std::string("cannot be examined: ") + strerror(errno));
    }
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return Internal("cannot create " + dir.parent_path().string() + ": " + ec.message());
    if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return Internal("cannot create " + dir.string() + ": " + strerror(errno));
    }
    ::chmod(dir.c_str(), static_cast<mode_t>(mode));  // whatever the umask
    if (::lstat(dir.c_str(), &st) != 0) return Internal("cannot examine " + dir.string());
  }
  if (S_ISLNK(st.st_mode)) return Refuse("data directory", dir.string(), "is a symbolic link");
  if (!S_ISDIR(st.st_mode)) return Refuse("data directory", dir.string(), "is not a directory");
  IL_RETURN_IF_ERROR(CheckOwnerAndMode("data directory", dir.string(), st));
  return CheckAncestors(dir);
}

Status CheckPrivateFile(const std::string& path) {
  fs::path p = fs::absolute(fs::path(path)).lexically_normal();
  IL_RETURN_IF_ERROR(EnsurePrivateDir(p.parent_path().string()));
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Refuse("state file", p.string(), std::string("cannot be examined: ") + strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) return Refuse("state file", p.string(), "is a symbolic link");
  if (!S_ISREG(st.st_mode)) return Refuse("state file", p.string(), "is not a regular file");
  return CheckOwnerAndMode("state file", p.string(), st);
}

}  // namespace il

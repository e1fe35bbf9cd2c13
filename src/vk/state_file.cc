#include "vk/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace il::vk {

StateFile::~StateFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status StateFile::Open(const std::string& path) {
  MutexLock l(mu_);
  path_ = path;
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string op, uid, ns, name;
    ls >> op >> uid;
    if (op == "+" && (ls >> ns >> name)) {
      live_[uid] = {ns, name};
    } else if (op == "-" && !uid.empty()) {
      live_.erase(uid);
    }
  }
  return Compact();
}

Status StateFile::Compact() {
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Internal("cannot write state file " + tmp + ": " + std::strerror(errno));
    for (const auto& [uid, ref] : live_)
      out << "+ " << uid << " " << ref.ns << " " << ref.name << "\n";
    if (!out.flush()) return Internal("cannot write state file " + tmp);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return Internal("cannot open state file " + path_ + ": " + std::strerror(errno));
  lines_ = live_.size();
  return Status::Ok();
}

void StateFile::Append(const std::string& line) {
  ssize_t n = ::write(fd_, line.data(), line.size());
  (void)n;  // best effort: the backend reconcile covers a lost line
  if (++lines_ > 4 * live_.size() + 1024) (void)Compact();
}

void StateFile::Add(const std::string& uid, const std::string& ns, const std::string& name) {
  MutexLock l(mu_);
  if (fd_ < 0 || live_.count(uid)) return;
  live_[uid] = {ns, name};
  Append("+ " + uid + " " + ns + " " + name + "\n");
}

void StateFile::Remove(const std::string& uid) {
  MutexLock l(mu_);
  if (fd_ < 0 || !live_.erase(uid)) return;
  Append("- " + uid + "\n");
}

std::map<std::string, BackendPodRef> StateFile::Entries() const {
  MutexLock l(mu_);
  return live_;
}

}  // namespace il::vk

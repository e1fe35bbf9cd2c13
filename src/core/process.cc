#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace il {
namespace {

std::string Quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\"\\$`;&|<>()*?[]{}!#~") == std::string::npos) return s;
  std::string r = "'";
  for (char c : s) {
    if (c == '\'') {
      r += "'\\''";
    } else {
      r += c;
    }
  }
  return r + "'";
}

}  // namespace

std::string ArgvToString(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += Quote(a);
  }
  return s;
}

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !status_) {
      Kill(SIGKILL);
      Wait();
    }
    pid_ = o.pid_;
    status_ = o.status_;
    o.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !status_) {
    Kill(SIGKILL);
    Wait();
  }
}

void Subprocess::Kill(int signal) {
  // Not after Wait: the pid (and group id) may belong to someone else by then.
  if (pid_ > 0 && !status_) ::kill(-pid_, signal);
}

int Subprocess::Wait() {
  if (status_) return *status_;
  if (pid_ <= 0) return 0;
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  status_ = wstatus;
  return wstatus;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

Result<Subprocess> Spawn(const std::vector<std::string>& argv, const SpawnOptions& opt) {
  if (argv.empty() || argv[0].empty()) return InvalidArgument("empty command");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  short flags = POSIX_SPAWN_SETSIGMASK;
  if (!opt.terminal.empty()) {
    // glibc runs setsid before the file actions: the first open of the terminal in the
    // new session makes it the controlling terminal (as forkpty does).
    flags |= POSIX_SPAWN_SETSID;
    posix_spawn_file_actions_addopen(&fa, 0, opt.terminal.c_str(), O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
  } else {
    // A new process group so that Kill reaches the whole tree.
    flags |= POSIX_SPAWN_SETPGROUP;
    const int fds[3] = {opt.stdin_fd, opt.stdout_fd, opt.stderr_fd};
    for (int i = 0; i < 3; ++i) {
      if (fds[i] >= 0) {
        posix_spawn_file_actions_adddup2(&fa, fds[i], i);
      } else {
        posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
      }
    }
  }
  // The child gets stdin/stdout/stderr only: an inherited listening socket would outlive a
  // killed daemon and keep its port busy.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  if (!opt.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, opt.working_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, flags);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env_store;
  std::vector<char*> cenv;
  if (!opt.env_overrides.empty()) {
    for (char** e = environ; *e; ++e) {
      std::string kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string::npos && opt.env_overrides.count(kv.substr(0, eq))) continue;
      env_store.push_back(kv);
    }
    for (const auto& [k, v] : opt.env_overrides) env_store.push_back(k + "=" + v);
    for (auto& s : env_store) cenv.push_back(s.data());
    cenv.push_back(nullptr);
  }
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, cargv.data(),
                        cenv.empty() ? environ : cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    StatusCode code = rc == ENOENT ? StatusCode::kNotFound : StatusCode::kInternal;
    return Status(code, "cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return Subprocess(pid);
}

Result<CommandResult> PosixCommandRunner::Run(const std::vector<std::string>& argv,
                                              const CommandOptions& opt) {
  if (argv.empty() || argv[0].empty()) return InvalidArgument("empty command");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Internal("pipe failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return Internal("pipe failed");
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Internal("pipe failed");
  }
  SpawnOptions so;
  so.stdin_fd = in_pipe[0];
  so.stdout_fd = out_pipe[1];
  so.stderr_fd = err_pipe[1];
  so.env_overrides = opt.env_overrides;
  so.working_dir = opt.working_dir;
  auto child = Spawn(argv, so);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!child.ok()) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return child.status();
  }

  CommandResult res;
  size_t in_off = 0;
  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);
  if (opt.stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  auto deadline = std::chrono::steady_clock::now() + opt.timeout;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      child->Kill(SIGKILL);
      break;
    }
    int pr = poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      int fd = fds[i].fd;
      if (fd == in_fd) {
        ssize_t w = write(in_fd, opt.stdin_data.data() + in_off, opt.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_off = opt.stdin_data.size();
        if (in_off >= opt.stdin_data.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof(buf));
      std::string& dst = fd == out_fd ? res.out : res.err;
      if (r > 0) {
        if (dst.size() < opt.max_output)
          dst.append(buf, std::min<size_t>(r, opt.max_output - dst.size()));
      } else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        close(fd);
        (fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  const int wstatus = child->Wait();
  if (WIFEXITED(wstatus)) {
    res.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    res.signal = WTERMSIG(wstatus);
    res.exit_code = -1;
  }
  return res;
}

}  // namespace il

#include "sidecars/docker/stream_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace il::docker {

namespace {

// Closes the fds it holds on scope exit.
struct Fds {
  int fd[4] = {-1, -1, -1, -1};
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
  void Close(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

Result<int> PosixStreamRunner::Stream(const std::vector<std::string>& argv,
                                      const OutputFn& on_output, const StopFn& stop,
                                      std::chrono::milliseconds poll_every) {
  if (argv.empty() || argv[0].empty()) return InvalidArgument("empty command");
  Fds p;  // 0,1: stdout read/write; 2,3: stderr read/write
  if (pipe2(&p.fd[0], O_CLOEXEC) != 0 || pipe2(&p.fd[2], O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p.fd[3], 2);
  // Nothing else leaks into the child: not our listening socket, not other pipes.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  p.Close(1);
  p.Close(3);
  if (rc != 0) {
    return Status(rc == ENOENT ? StatusCode::kNotFound : StatusCode::kInternal,
                  "cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  bool killed = false;
  char buf[65536];
  while (p.fd[0] >= 0 || p.fd[2] >= 0) {
    if (stop && stop()) {
      killed = true;
      break;
    }
    pollfd fds[2];
    int n = 0;
    for (int i : {0, 2}) {
      if (p.fd[i] >= 0) fds[n++] = {p.fd[i], POLLIN, 0};
    }
    int pr = ::poll(fds, n, static_cast<int>(poll_every.count()));
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < n && !killed; ++i) {
      if (!fds[i].revents) continue;
      ssize_t r = read(fds[i].fd, buf, sizeof(buf));
      int idx = fds[i].fd == p.fd[0] ? 0 : 2;
      if (r > 0) {
        if (!on_output(idx == 0 ? 1 : 2, std::string_view(buf, static_cast<size_t>(r))))
          killed = true;
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        p.Close(idx);
      }
    }
    if (killed) break;
  }
  if (killed) kill(-pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (killed || !WIFEXITED(wstatus)) return -1;
  return WEXITSTATUS(wstatus);
}

}  // namespace il::docker

#include "stream/process_stream.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/process.h"

namespace il::stream {

namespace {

bool WriteAll(int fd, std::string_view d) {
  while (!d.empty()) {
    ssize_t n = ::write(fd, d.data(), d.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    d.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Copies fd to channel `ch` until EOF (or EIO on a pty master).
void Pump(int fd, uint8_t ch, api::Channels& io) {
  std::vector<char> buf(size_t{32} * 1024);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (!io.Write(ch, std::string_view(buf.data(), static_cast<size_t>(n)))) return;
  }
}

}  // namespace

std::optional<std::pair<uint16_t, uint16_t>> ParseTerminalSize(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  int64_t w = -1, h = -1;
  for (const auto& [k, val] : v.as_object()) {
    std::string key(k);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!val.is_int64() && !val.is_uint64()) continue;
    int64_t n = val.is_int64() ? val.as_int64() : static_cast<int64_t>(val.as_uint64());
    if (key == "width") w = n;
    if (key == "height") h = n;
  }
  if (w < 0 || h < 0 || w > 65535 || h > 65535) return std::nullopt;
  return std::make_pair(static_cast<uint16_t>(w), static_cast<uint16_t>(h));
}

Result<int> RunProcessStream(const std::vector<std::string>& argv, bool tty, api::Channels& io) {
  if (argv.empty()) return InvalidArgument("empty command");
  int in_fd = -1, out_fd = -1, err_fd = -1;
  Result<Subprocess> child = Status(StatusCode::kInternal, "not started");
  if (tty) {
    int master = -1, slave = -1;
    winsize ws{24, 80, 0, 0};
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
      return Internal(std::string("openpty: ") + std::strerror(errno));
    }
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    std::array<char, 128> name{};
    SpawnOptions so;
    if (::ptsname_r(master, name.data(), name.size()) == 0) so.terminal = name.data();
    // The child opens the terminal itself (so it becomes its controlling terminal); the
    // parent's copy of the slave side goes once it has, so EOF reaches the master.
    if (!so.terminal.empty()) child = Spawn(argv, so);
    ::close(slave);
    if (so.terminal.empty() || !child.ok()) {
      ::close(master);
      return so.terminal.empty() ? Internal("ptsname failed") : child.status();
    }
    in_fd = master;
    out_fd = ::dup(master);
  } else {
    int pin[2], pout[2], perr[2];
    if (::pipe2(pin, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(pout, O_CLOEXEC) != 0 || ::pipe2(perr, O_CLOEXEC) != 0) {
      // Not leaking the ends already made is not worth the lines: a process out of fds
      // is about to fail anyway.
      return Internal(std::string("pipe: ") + std::strerror(errno));
    }
    SpawnOptions so;
    so.stdin_fd = pin[0];
    so.stdout_fd = pout[1];
    so.stderr_fd = perr[1];
    child = Spawn(argv, so);
    ::close(pin[0]);
    ::close(pout[1]);
    ::close(perr[1]);
    if (!child.ok()) {
      ::close(pin[1]);
      ::close(pout[0]);
      ::close(perr[0]);
      return child.status();
    }
    in_fd = pin[1];
    out_fd = pout[0];
    err_fd = perr[0];
  }
  const pid_t pid = child->pid();
  std::atomic<bool> exited{false};
  std::thread up([&] {
    bool stdin_open = true;
    while (auto m = io.Read()) {
      if (m->channel == api::kChanStdin && stdin_open) {
        if (!WriteAll(in_fd, m->data)) stdin_open = false;
      } else if (m->channel == api::kChanResize && tty) {
        if (auto size = ParseTerminalSize(m->data)) {
          winsize ws{size->second, size->first, 0, 0};
          ::ioctl(in_fd, TIOCSWINSZ, &ws);
        }
      } else if (m->channel == api::kChanClose && !m->data.empty() && m->data[0] == 0 &&
                 stdin_open) {
        if (tty) {
          WriteAll(in_fd, "\x04");
        } else {
          ::close(in_fd);
          in_fd = -1;
        }
        stdin_open = false;
      }
    }
    // The caller went away. Not through `child`: the main thread may be waiting on it.
    if (!exited) ::kill(-pid, SIGKILL);
  });
  std::thread err_pump;
  if (err_fd >= 0) err_pump = std::thread([&] { Pump(err_fd, api::kChanStderr, io); });
  Pump(out_fd, api::kChanStdout, io);
  if (err_pump.joinable()) err_pump.join();
  const int status = child->Wait();
  exited = true;
  io.CancelRead();
  up.join();
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  return ExitCodeOf(status);
}

}  // namespace il::stream

#include "sidecars/mock/mock_exec.h"

#include <atomic>
#include <thread>

#include "core/mutex.h"
#include "stream/process_stream.h"
#include "stream/tcp_forward.h"

namespace il::mock {

namespace {

std::string Join(const std::vector<std::string>& v, size_t from) {
  std::string out;
  for (size_t i = from; i < v.size(); ++i) out += (i > from ? " " : "") + v[i];
  return out;
}

// Reads stdin until its end (or the caller leaving); `on_data` gets each chunk.
void ReadStdin(api::Channels& io, const std::function<void(const std::string&)>& on_data) {
  while (auto m = io.Read()) {
    if (m->channel == api::kChanStdin) on_data(m->data);
    if (m->channel == api::kChanClose && !m->data.empty() && m->data[0] == 0) return;
  }
}

std::optional<int> ParseExit(const std::string& s) {
  if (s.rfind("exit", 0) != 0) return std::nullopt;
  std::string rest = s.substr(4);
  while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  if (rest.empty()) return 0;
  try {
    int n = std::stoi(rest);
    return n & 0xff;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<int> MockStreams::Exec(const api::CallContext&, const api::ExecRequest& r,
                              api::Channels& io) {
  if (r.attach) return Attach(r, io);
  const auto& c = r.command;
  const std::string& cmd = c[0];
  if (cmd == "sh" && c.size() == 1 && r.tty) return Shell(io);
  std::string script = cmd == "sh" && c.size() == 3 && c[1] == "-c" ? c[2] : Join(c, 0);
  if (auto code = ParseExit(script)) return *code;
  if (script.rfind("echo", 0) == 0) {
    std::string text = script.size() > 5 ? script.substr(5) : "";
    if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
        text.back() == text.front()) {
      text = text.substr(1, text.size() - 2);
    }
    io.Write(api::kChanStdout, text + (r.tty ? "\r\n" : "\n"));
    return 0;
  }
  if (cmd == "true") return 0;
  if (cmd == "false") return 1;
  if (cmd == "cat" && c.size() == 1) {
    ReadStdin(io, [&](const std::string& d) { io.Write(api::kChanStdout, d); });
    return 0;
  }
  if (cmd == "wc" && c.size() == 2 && c[1] == "-c") {
    size_t n = 0;
    ReadStdin(io, [&](const std::string& d) { n += d.size(); });
    io.Write(api::kChanStdout, std::to_string(n) + "\n");
    return 0;
  }
  io.Write(r.tty ? api::kChanStdout : api::kChanStderr,
           "mock-sd: " + cmd + ": command not found\n");
  return 127;
}

int MockStreams::Shell(api::Channels& io) {
  uint16_t width = 80, height = 24;
  std::string line;
  io.Write(api::kChanStdout, "$ ");
  while (auto m = io.Read()) {
    if (m->channel == api::kChanResize) {
      if (auto s = stream::ParseTerminalSize(m->data)) std::tie(width, height) = *s;
      continue;
    }
    if (m->channel == api::kChanClose) return 0;
    if (m->channel != api::kChanStdin) continue;
    for (char ch : m->data) {
      if (ch == 4) return 0;  // ^D
      if (ch != '\r' && ch != '\n') {
        line.push_back(ch);
        io.Write(api::kChanStdout, std::string(1, ch));  // terminal echo
        continue;
      }
      io.Write(api::kChanStdout, "\r\n");
      if (auto code = ParseExit(line)) return *code;
      if (line == "stty size") {
        io.Write(api::kChanStdout, std::to_string(height) + " " + std::to_string(width) + "\r\n");
      } else if (!line.empty()) {
        io.Write(api::kChanStdout, "mock: " + line + "\r\n");
      }
      line.clear();
      io.Write(api::kChanStdout, "$ ");
    }
  }
  return 0;
}

Result<int> MockStreams::Attach(const api::ExecRequest& r, api::Channels& io) {
  struct {
    Mutex mu;
    CondVar cv;
    bool gone IL_GUARDED_BY(mu) = false;
  } in_done;
  std::thread in([&] {
    while (auto m = io.Read()) {
      if (m->channel == api::kChanStdin && r.stdout) io.Write(api::kChanStdout, m->data);
    }
    MutexLock lock(in_done.mu);
    in_done.gone = true;
    in_done.cv.NotifyAll();
  });
  for (int n = 1;; ++n) {
    if (r.stdout && !io.Write(api::kChanStdout, "tick " + std::to_string(n) + "\n")) break;
    MutexLock lock(in_done.mu);
    const auto deadline = std::chrono::steady_clock::now() + opt_.tick;
    while (!in_done.gone) {
      if (!in_done.cv.WaitUntil(in_done.mu, deadline)) break;
    }
    if (in_done.gone) break;
  }
  io.CancelRead();
  in.join();
  return 0;
}

Status MockStreams::PortForward(const api::CallContext&, const api::PortForwardRequest& r,
                                api::Channels& io) {
  return stream::ForwardTcp(opt_.forward_host, r.port, io);
}

}  // namespace il::mock

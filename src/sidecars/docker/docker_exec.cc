#include "sidecars/docker/docker_exec.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "api/pod.h"
#include "stream/process_stream.h"
#include "stream/tcp_forward.h"

namespace il::docker {
namespace json = boost::json;

ExecConfig ExecConfigOf(const api::ExecRequest& r) {
  ExecConfig c;
  c.cmd = r.command;
  c.tty = r.tty;
  c.attach_stdin = r.stdin;
  c.attach_stdout = true;
  c.attach_stderr = !r.tty;
  return c;
}

json::object FindFilters(const std::string& pod_uid, const std::string& container) {
  json::array labels{json::string("io.kubernetes.pod.uid=" + pod_uid)};
  if (!container.empty()) labels.emplace_back("io.kubernetes.container.name=" + container);
  return json::object{{"label", std::move(labels)}, {"status", json::array{"running"}}};
}

Result<std::string> DockerStreams::Find(const std::string& pod_uid, const std::string& container) {
  IL_ASSIGN_OR_RETURN(json::array list,
                      api_.ListContainers(FindFilters(pod_uid, container), /*all=*/false));
  for (const auto& c : list) {
    if (std::string id = api::GetString(c, {"Id"}); !id.empty()) return id;
  }
  return NotFound((container.empty() ? "no container" : "container " + container) + " of pod " +
                  pod_uid + " is running");
}

Result<int> DockerStreams::Exec(const api::CallContext&, const api::ExecRequest& r,
                                api::Channels& io) {
  IL_ASSIGN_OR_RETURN(std::string id, Find(r.pod_uid, r.container));
  std::string exec_id;
  bool tty = r.tty;
  std::unique_ptr<http::ByteStream> s;
  if (r.attach) {
    IL_ASSIGN_OR_RETURN(json::value inspect, api_.InspectContainer(id));
    const json::value* t = api::Find(inspect, {"Config", "Tty"});
    tty = t && t->is_bool() && t->as_bool();
    IL_ASSIGN_OR_RETURN(s, api_.Attach(id, AttachOptions{r.stdin, true, true, false}));
  } else {
    if (r.command.empty()) return InvalidArgument("exec needs a command");
    IL_ASSIGN_OR_RETURN(exec_id, api_.CreateExec(id, ExecConfigOf(r)));
    IL_ASSIGN_OR_RETURN(s, api_.StartExec(exec_id, tty));
  }
  // Caller -> container: stdin, end of stdin, resizes.
  std::thread in([&] {
    while (auto m = io.Read()) {
      if (m->channel == api::kChanStdin && r.stdin) {
        if (!s->Write(m->data)) break;
      } else if (m->channel == api::kChanClose && !m->data.empty() && m->data[0] == 0) {
        if (tty) {
          s->Write("\x04");  // ^D on a terminal
        } else {
          s->ShutdownWrite();
        }
      } else if (m->channel == api::kChanResize) {
        if (auto size = stream::ParseTerminalSize(m->data)) {
          auto [w, h] = *size;
          (void)(exec_id.empty() ? api_.ResizeContainer(id, h, w) : api_.ResizeExec(exec_id, h, w));
        }
      }
    }
  });
  // Container -> caller.
  StreamDemuxer demux;
  auto out = [&](int stream, std::string_view data) {
    return io.Write(stream == 2 ? api::kChanStderr : api::kChanStdout, data);
  };
  char buf[16384];
  for (size_t n; (n = s->Read(buf, sizeof buf)) > 0;) {
    std::string_view chunk(buf, n);
    if (!(tty ? out(1, chunk) : demux.Feed(chunk, out))) break;
  }
  io.CancelRead();
  in.join();
  s->Close();
  // The stream ends with the process; its exit code may lag a little behind.
  for (int i = 0; i < 50; ++i) {
    if (exec_id.empty()) {
      IL_ASSIGN_OR_RETURN(json::value v, api_.InspectContainer(id));
      const json::value* running = api::Find(v, {"State", "Running"});
      if (!(running && running->is_bool() && running->as_bool())) {
        return static_cast<int>(api::GetInt(v, {"State", "ExitCode"}));
      }
    } else {
      IL_ASSIGN_OR_RETURN(ExecState st, api_.InspectExec(exec_id));
      if (!st.running && st.exit_code) return *st.exit_code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;  // attach ended (detached or the caller left) with the process still running
}

Result<int> DialInNetns(int pid, uint16_t port) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  Result<int> out = Internal("not run");
  // A thread of its own joins the namespace, so no other work ever runs in it.
  std::thread t([&] {
    int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      out = Unavailable("cannot open " + path + ": " + std::strerror(errno));
      return;
    }
    int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0 || ::setns(target, CLONE_NEWNET) != 0) {
      out = Unavailable("cannot join the pod's network namespace: " +
                        std::string(std::strerror(errno)));
      ::close(target);
      if (self >= 0) ::close(self);
      return;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::setns(self, CLONE_NEWNET) != 0) std::abort();  // never run on in the pod's netns
    ::close(target);
    ::close(self);
    if (fd < 0) {
      out = Internal(std::string("socket: ") + std::strerror(errno));
      return;
    }
    out = fd;
  });
  t.join();
  IL_ASSIGN_OR_RETURN(int fd, out);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Unavailable("cannot connect to port " + std::to_string(port) + " in the pod: " + err);
  }
  return fd;
}

Status DockerStreams::PortForward(const api::CallContext&, const api::PortForwardRequest& r,
                                  api::Channels& io) {
  // The sandbox holds the pod's network namespace; a pod of one container has none and
  // that container holds it (any running container of the pod shares it).
  auto id = Find(r.pod_uid, "POD");
  if (!id.ok() && id.status().code() == StatusCode::kNotFound) id = Find(r.pod_uid, "");
  if (!id.ok()) return id.status();
  auto inspect = api_.InspectContainer(*id);
  int pid = inspect.ok() ? static_cast<int>(api::GetInt(*inspect, {"State", "Pid"})) : 0;
  if (pid <= 0) {
    return Unavailable("the sandbox of pod " + r.namespace_ + "/" + r.pod_name + " is not running");
  }
  IL_ASSIGN_OR_RETURN(int fd, DialInNetns(pid, r.port));
  return stream::ForwardSocket(fd, io);
}

}  // namespace il::docker

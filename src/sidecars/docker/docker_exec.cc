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

#include "stream/process_stream.h"
#include "stream/tcp_forward.h"

namespace il::docker {

std::vector<std::string> DockerFindArgv(const std::string& docker, const std::string& pod_uid,
                                        const std::string& container) {
  std::vector<std::string> argv = {
      docker, "ps", "-q", "--no-trunc", "--filter", "label=io.kubernetes.pod.uid=" + pod_uid};
  if (!container.empty()) {
    argv.push_back("--filter");
    argv.push_back("label=io.kubernetes.container.name=" + container);
  }
  return argv;
}

std::vector<std::string> DockerExecArgv(const std::string& docker, const std::string& container,
                                        const api::ExecRequest& r) {
  std::vector<std::string> argv = {docker, "exec"};
  if (r.stdin) argv.push_back("-i");
  if (r.tty) argv.push_back("-t");
  argv.push_back(container);
  argv.insert(argv.end(), r.command.begin(), r.command.end());
  return argv;
}

std::vector<std::string> DockerAttachArgv(const std::string& docker, const std::string& container,
                                          const api::ExecRequest& r) {
  std::vector<std::string> argv = {docker, "attach", "--sig-proxy=false"};
  if (!r.stdin) argv.push_back("--no-stdin");
  argv.push_back(container);
  return argv;
}

Result<std::string> DockerStreams::Find(const std::string& pod_uid, const std::string& container) {
  IL_ASSIGN_OR_RETURN(auto res, runner_.Run(DockerFindArgv(docker_, pod_uid, container)));
  if (res.exit_code != 0) {
    return Unavailable("docker ps failed: " + res.err.substr(0, 500));
  }
  std::string id = res.out.substr(0, res.out.find('\n'));
  if (id.empty()) {
    return NotFound((container.empty() ? "no container" : "container " + container) + " of pod " +
                    pod_uid + " is running");
  }
  return id;
}

Result<int> DockerStreams::Exec(const api::CallContext&, const api::ExecRequest& r,
                                api::Channels& io) {
  IL_ASSIGN_OR_RETURN(std::string id, Find(r.pod_uid, r.container));
  auto argv = r.attach ? DockerAttachArgv(docker_, id, r) : DockerExecArgv(docker_, id, r);
  // A TTY exec needs a terminal on the CLI's side; attach gets one when the container has
  // a TTY and the caller asked for it.
  return stream::RunProcessStream(argv, r.tty, io);
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
  IL_ASSIGN_OR_RETURN(auto res, runner_.Run({docker_, "inspect", "-f", "{{.State.Pid}}", *id}));
  int pid = 0;
  try {
    pid = std::stoi(res.out);
  } catch (const std::exception&) {
  }
  if (res.exit_code != 0 || pid <= 0) {
    return Unavailable("the sandbox of pod " + r.namespace_ + "/" + r.pod_name + " is not running");
  }
  IL_ASSIGN_OR_RETURN(int fd, DialInNetns(pid, r.port));
  return stream::ForwardSocket(fd, io);
}

}  // namespace il::docker

#include "vk/kubelet_stream.h"

#include <deque>
#include <list>
#include <map>
#include <thread>

#include "api/pod.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/websocket.h"
#include "stream/exec_status.h"
#include "stream/hop_stream.h"
#include "stream/spdy_session.h"
#include "stream/ws_channels.h"

namespace il::vk {

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.streams");
  return l;
}
std::shared_ptr<spdlog::logger> Audit() {
  static auto l = log::Logger("audit");
  return l;
}

const std::vector<std::string>& SpdyExecProtocols() {
  static const std::vector<std::string> p = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                             "v2.channel.k8s.io", "channel.k8s.io"};
  return p;
}
constexpr std::string_view kPortForwardProtocol = "portforward.k8s.io";
constexpr std::string_view kTunnelProtocol = "SPDY/3.1+portforward.k8s.io";

bool ContainsToken(std::string v, std::string_view token) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v.find(token) != std::string::npos;
}

bool IsSpdyUpgrade(const http::Headers& h) {
  return ContainsToken(h.Get("Connection"), "upgrade") &&
         ContainsToken(h.Get("Upgrade"), "spdy/3.1");
}

std::string Who(const http::Request& req) {
  if (req.identity.user.empty()) return "system:anonymous";
  return req.identity.user + " (" + req.identity.method + ")";
}

// Closes a connection that saw no traffic for the idle timeout.
class IdleWatch {
 public:
  IdleWatch(std::chrono::seconds timeout, const std::function<Clock::time_point()>& last,
            const std::function<void()>& expire)
      : thread_([=, this] {
          MutexLock lock(mu_);
          while (!stop_) {
            auto deadline = last() + timeout;
            if (Clock::now() >= deadline) {
              Log()->info("closing a stream connection idle for {} s", timeout.count());
              expire();
              return;
            }
            cv_.WaitUntil(mu_, std::min(deadline, Clock::now() + std::chrono::seconds(5)));
          }
        }) {}
  ~IdleWatch() {
    {
      MutexLock lock(mu_);
      stop_ = true;
      cv_.NotifyAll();
    }
    thread_.join();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool stop_ IL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// A queue of channel messages fed by pump threads; Read blocks until a message, the end
// of the connection, or CancelRead.
class MessageQueue {
 public:
  // Waits while 1 MiB is queued: back-pressure reaches the client through TCP.
  void Push(api::ChannelMessage m) {
    MutexLock lock(mu_);
    while (bytes_ >= kMaxQueued && !cancelled_) cv_.Wait(mu_);
    if (cancelled_) return;
    bytes_ += m.data.size();
    q_.push_back(std::move(m));
    cv_.NotifyAll();
  }
  void End() {
    MutexLock lock(mu_);
    ended_ = true;
    cv_.NotifyAll();
  }
  std::optional<api::ChannelMessage> Pop() {
    MutexLock lock(mu_);
    while (q_.empty() && !ended_ && !cancelled_) cv_.Wait(mu_);
    if (cancelled_ || q_.empty()) return std::nullopt;
    auto m = std::move(q_.front());
    q_.pop_front();
    bytes_ -= m.data.size();
    cv_.NotifyAll();
    return m;
  }
  void Cancel() {
    MutexLock lock(mu_);
    cancelled_ = true;
    q_.clear();
    bytes_ = 0;
    cv_.NotifyAll();
  }

 private:
  static constexpr size_t kMaxQueued = 1u << 20;
  Mutex mu_;
  CondVar cv_;
  size_t bytes_ IL_GUARDED_BY(mu_) = 0;
  std::deque<api::ChannelMessage> q_ IL_GUARDED_BY(mu_);
  bool ended_ IL_GUARDED_BY(mu_) = false;
  bool cancelled_ IL_GUARDED_BY(mu_) = false;
};

// The streams of one exec/attach over SPDY as api::Channels.
class SpdyExecChannels : public api::Channels {
 public:
  std::shared_ptr<stream::SpdyStream> stdin_, stdout_, stderr_, resize_, error_;
  MessageQueue queue;

  void StartPumps() {
    if (stdin_) {
      pumps_.emplace_back([this] {
        while (auto d = stdin_->Read()) queue.Push({api::kChanStdin, std::move(*d)});
        queue.Push({api::kChanClose, std::string(1, '\0')});  // end of stdin
      });
    }
    if (resize_) {
      pumps_.emplace_back([this] {
        std::string buf;
        while (auto d = resize_->Read()) {
          buf += *d;
          for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
            queue.Push({api::kChanResize, buf.substr(0, nl)});
            buf.erase(0, nl + 1);
          }
        }
      });
    }
  }
  std::optional<api::ChannelMessage> Read() override { return queue.Pop(); }
  bool Write(uint8_t channel, std::string_view data) override {
    if (channel == api::kChanStdout && stdout_) return stdout_->Write(data);
    if (channel == api::kChanStderr && stderr_) return stderr_->Write(data);
    return true;
  }
  void CancelRead() override {
    queue.Cancel();
    for (auto* s : {&stdin_, &resize_}) {
      if (*s) (*s)->CancelRead();
    }
  }
  void Join() {
    for (auto& t : pumps_) t.join();
    pumps_.clear();
  }

 private:
  std::vector<std::thread> pumps_;
};

// One port-forward pair (data + error streams) as api::Channels.
class SpdyPortChannels : public api::Channels {
 public:
  std::shared_ptr<stream::SpdyStream> data, error;
  std::optional<api::ChannelMessage> Read() override {
    if (!data_done_) {
      if (auto d = data->Read()) return api::ChannelMessage{api::kChanData, std::move(*d)};
      data_done_ = true;
      MutexLock lock(mu_);
      if (!cancelled_ && !gone_) return api::ChannelMessage{api::kChanClose, std::string(1, '\0')};
    }
    // After the client's FIN: wait until we are done or the connection goes.
    MutexLock lock(mu_);
    while (!cancelled_ && !gone_) cv_.Wait(mu_);
    return std::nullopt;
  }
  bool Write(uint8_t channel, std::string_view d) override {
    return channel == api::kChanData ? data->Write(d) : true;
  }
  void CancelRead() override {
    MutexLock lock(mu_);
    cancelled_ = true;
    data->CancelRead();
    cv_.NotifyAll();
  }
  void ConnectionGone() {
    MutexLock lock(mu_);
    gone_ = true;
    cv_.NotifyAll();
  }

 private:
  bool data_done_ = false;  // Read's thread only
  Mutex mu_;
  CondVar cv_;
  bool cancelled_ IL_GUARDED_BY(mu_) = false;
  bool gone_ IL_GUARDED_BY(mu_) = false;
};

// SPDY tunnelled in WebSocket binary messages (kubectl >= 1.31 port-forward): message
// boundaries carry no meaning.
class WsByteStream : public http::ByteStream {
 public:
  explicit WsByteStream(http::WebSocket& ws) : ws_(ws) {}
  size_t Read(char* buf, size_t size) override {
    while (pos_ >= cur_.size()) {
      auto m = ws_.Read();
      if (!m || !m->binary) return 0;
      cur_ = std::move(m->data);
      pos_ = 0;
    }
    size_t n = std::min(size, cur_.size() - pos_);
    std::memcpy(buf, cur_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  bool Write(std::string_view data) override { return ws_.Send(true, data); }
  void ShutdownWrite() override {}
  void Close() override {
    ws_.SendClose(1000);
    ws_.stream().Close();
  }

 private:
  http::WebSocket& ws_;
  std::string cur_;
  size_t pos_ = 0;
};

bool Flag(const std::string& v) { return v == "1" || v == "true"; }

}  // namespace

Result<StreamTarget> ParseStreamPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();
  for (const auto& p : parts) {
    if (p.empty()) return NotFound("malformed path " + std::string(path));
  }
  StreamTarget t;
  if (!parts.empty() && parts[0] == "portForward") {
    if (parts.size() != 3 && parts.size() != 4) {
      return NotFound("expected /portForward/{namespace}/{pod}[/{uid}]");
    }
    t.ns = parts[1];
    t.pod = parts[2];
    if (parts.size() == 4) t.uid = parts[3];
    return t;
  }
  if (parts.size() != 4 && parts.size() != 5) {
    return NotFound("expected /" + (parts.empty() ? std::string("exec") : parts[0]) +
                    "/{namespace}/{pod}[/{uid}]/{container}");
  }
  t.ns = parts[1];
  t.pod = parts[2];
  if (parts.size() == 5) t.uid = parts[3];
  t.container = parts.back();
  return t;
}

Result<api::ExecRequest> ParseExecQuery(std::string_view target, bool attach) {
  api::ExecRequest r;
  r.attach = attach;
  for (auto& [k, v] : stream::QueryPairs(target)) {
    if (k == "command")
      r.command.push_back(v);
    else if (k == "input")
      r.stdin = Flag(v);
    else if (k == "output")
      r.stdout = Flag(v);
    else if (k == "error")
      r.stderr = Flag(v);
    else if (k == "tty")
      r.tty = Flag(v);
  }
  if (r.tty) r.stderr = false;  // the kubelet drops stderr with a TTY
  if (!r.stdin && !r.stdout && !r.stderr) {
    return InvalidArgument("you must specify at least 1 of stdin, stdout, stderr");
  }
  if (!attach && r.command.empty()) return InvalidArgument("command is required");
  return r;
}

std::string NegotiateProtocol(const http::Headers& headers,
                              const std::vector<std::string>& supported) {
  for (const auto& [k, v] : headers.items()) {
    if (k != "x-stream-protocol-version") continue;
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      std::string p = v.substr(start, comma - start);
      while (!p.empty() && p.front() == ' ') p.erase(0, 1);
      while (!p.empty() && p.back() == ' ') p.pop_back();
      for (const auto& s : supported) {
        if (p == s) return s;
      }
      start = comma + 1;
    }
  }
  return "";
}

KubeletStreams::KubeletStreams(StreamingOptions options, PodStore& pods,
                               api::StreamBackend* backend)
    : opt_(options), pods_(pods), backend_(backend) {}

Result<PodRecord> KubeletStreams::FindPod(const StreamTarget& t) {
  auto rec = pods_.FindByName(t.ns, t.pod);
  if (!rec || (!t.uid.empty() && rec->uid != t.uid)) {
    return NotFound("pod " + t.ns + "/" + t.pod + " does not exist on this node");
  }
  if (!t.container.empty()) {
    bool known = false;
    for (const auto* list : {&api::Containers(rec->view), &api::InitContainers(rec->view)}) {
      for (const auto& c : *list) known = known || api::GetString(c, {"name"}) == t.container;
    }
    if (!known) {
      return NotFound("container " + t.container + " is not valid for pod " + t.pod);
    }
  }
  if (rec->backend != BackendState::kCreated) {
    return InvalidArgument("pod " + t.ns + "/" + t.pod + " is not running in the backend");
  }
  return *rec;
}

void KubeletStreams::ServeExec(const http::Request& req, http::ResponseWriter& w, bool attach) {
  auto t = ParseStreamPath(req.path);
  if (!t.ok()) return w.ReplyError(t.status());
  auto er = ParseExecQuery(req.target, attach);
  if (!er.ok()) return w.ReplyError(er.status());
  auto pod = FindPod(*t);
  if (!pod.ok()) return w.ReplyError(pod.status());
  er->namespace_ = t->ns;
  er->pod_name = t->pod;
  er->pod_uid = pod->uid;
  er->container = t->container;
  er->user = req.identity.user;
  if (!backend_) {
    return w.ReplyError(Status(StatusCode::kUnimplemented, "exec is not available"));
  }
  const bool ws = http::IsWebSocketUpgrade(req.headers);
  std::string protocol;
  if (!ws) {
    if (!IsSpdyUpgrade(req.headers)) {
      return w.ReplyError(InvalidArgument("Upgrade request required"));
    }
    protocol = NegotiateProtocol(req.headers, SpdyExecProtocols());
    if (protocol.empty()) {
      for (const auto& p : SpdyExecProtocols())
        w.SetHeader("X-Accepted-Stream-Protocol-Versions", p);
      return w.Reply(403, "unable to upgrade: unable to negotiate protocol", "text/plain");
    }
  }
  Audit()->info("audit: {} via {}", stream::AuditLine(Who(req), *er),
                ws ? "websocket" : "spdy " + protocol);
  if (ws) return ExecWebSocket(req, w, *er);
  ExecSpdy(req, w, *er, protocol);
}

void KubeletStreams::ExecSpdy(const http::Request&, http::ResponseWriter& w,
                              const api::ExecRequest& er, const std::string& protocol) {
  w.SetHeader("Connection", "Upgrade");
  w.SetHeader("Upgrade", "SPDY/3.1");
  w.SetHeader("X-Stream-Protocol-Version", protocol);
  auto conn = w.Upgrade(101);
  if (!conn) return;
  const bool v3plus = protocol != "channel.k8s.io" && protocol != "v2.channel.k8s.io";
  const bool v4 = protocol == "v4.channel.k8s.io";
  const size_t expected = 1 + er.stdin + er.stdout + er.stderr + (er.tty && v3plus ? 1 : 0);

  stream::SpdySession session(*conn);
  SpdyExecChannels io;
  // The reader thread fills io's stream slots under sync.mu; this thread reads them once
  // `ready` (or after reader.join()).
  struct Sync {
    Mutex mu;
    CondVar cv;
    size_t got IL_GUARDED_BY(mu) = 0;
    bool ended IL_GUARDED_BY(mu) = false;
  } sync;
  std::thread reader([&] {
    session.Serve([&](const std::shared_ptr<stream::SpdyStream>& s) {
      std::string type = s->header("streamtype");
      MutexLock lock(sync.mu);
      std::shared_ptr<stream::SpdyStream>* slot = nullptr;
      if (type == "error")
        slot = &io.error_;
      else if (type == "stdin")
        slot = &io.stdin_;
      else if (type == "stdout")
        slot = &io.stdout_;
      else if (type == "stderr")
        slot = &io.stderr_;
      else if (type == "resize")
        slot = &io.resize_;
      if (slot && !*slot) {
        *slot = s;
        ++sync.got;
        sync.cv.NotifyAll();
      }
      return true;
    });
    io.queue.End();
    MutexLock lock(sync.mu);
    sync.ended = true;
    sync.cv.NotifyAll();
  });
  IdleWatch idle(
      opt_.idle_timeout, [&] { return session.last_activity(); }, [&] { session.Close(); });
  bool ready;
  {
    MutexLock lock(sync.mu);
    const auto deadline = Clock::now() + opt_.creation_timeout;
    while (sync.got < expected && !sync.ended) {
      if (!sync.cv.WaitUntil(sync.mu, deadline)) break;
    }
    ready = sync.got >= expected;
  }
  if (!ready) {
    Log()->info("exec {}/{}: the client did not create its streams in time", er.namespace_,
                er.pod_name);
    session.Close();
    reader.join();
    return;
  }
  io.StartPumps();
  Result<int> result = backend_->Exec({}, er, io);
  io.CancelRead();
  io.Join();
  if (io.error_) {
    std::string status =
        v4 ? stream::ExecStatusJson(result, er.attach) : stream::ExecStatusText(result);
    if (!status.empty()) io.error_->Write(status);
  }
  for (auto* s : {&io.stdout_, &io.stderr_, &io.error_, &io.stdin_, &io.resize_}) {
    if (*s) (*s)->Finish();
  }
  session.GoAwayAndClose();
  reader.join();
}

void KubeletStreams::ExecWebSocket(const http::Request& req, http::ResponseWriter& w,
                                   const api::ExecRequest& er) {
  // The client's subprotocols in order; the first we know wins (no header: the v1 framing).
  static const std::vector<std::string> known = {"v5.channel.k8s.io", "v4.channel.k8s.io",
                                                 "v4.base64.channel.k8s.io", "channel.k8s.io",
                                                 "base64.channel.k8s.io"};
  std::string offered = req.headers.Get("Sec-WebSocket-Protocol");
  std::string chosen;
  bool any = false;
  for (size_t start = 0; start <= offered.size() && chosen.empty();) {
    size_t comma = offered.find(',', start);
    if (comma == std::string::npos) comma = offered.size();
    std::string p = offered.substr(start, comma - start);
    while (!p.empty() && p.front() == ' ') p.erase(0, 1);
    while (!p.empty() && p.back() == ' ') p.pop_back();
    if (!p.empty()) any = true;
    for (const auto& k : known) {
      if (p == k) chosen = k;
    }
    start = comma + 1;
  }
  if (chosen.empty() && any) return w.Reply(403, "", "text/plain");
  const bool base64 = chosen.find("base64") != std::string::npos;
  const bool json_status = chosen.rfind("v4.", 0) == 0 || chosen.rfind("v5.", 0) == 0;
  auto conn = stream::AcceptWebSocket(req, w, chosen);
  if (!conn) return;
  http::WebSocket ws(*conn, http::WebSocket::Role::kServer);
  stream::WsChannels io(ws, base64);
  IdleWatch idle(
      opt_.idle_timeout, [&] { return ws.last_activity(); }, [&] { conn->Close(); });
  // The kubelet's "connection established" message: empty, on the lowest output channel.
  io.Write(er.stdout ? api::kChanStdout : er.stderr ? api::kChanStderr : api::kChanStatus, "");
  Result<int> result = backend_->Exec({}, er, io);
  io.CancelRead();
  std::string status =
      json_status ? stream::ExecStatusJson(result, er.attach) : stream::ExecStatusText(result);
  if (!status.empty()) io.Write(api::kChanStatus, status);
  io.Close();
}

void KubeletStreams::ServePortForward(const http::Request& req, http::ResponseWriter& w) {
  auto t = ParseStreamPath(req.path);
  if (!t.ok()) return w.ReplyError(t.status());
  auto pod = FindPod(*t);
  if (!pod.ok()) return w.ReplyError(pod.status());
  if (!backend_) {
    return w.ReplyError(Status(StatusCode::kUnimplemented, "port-forward is not available"));
  }
  api::PortForwardRequest base{t->ns, t->pod, pod->uid, 0, req.identity.user};
  Audit()->info("audit: portforward user={} pod={}/{} uid={} (ports per connection follow)",
                Who(req), t->ns, t->pod, pod->uid);
  if (http::IsWebSocketUpgrade(req.headers)) {
    // Only the SPDY tunnel of kubectl >= 1.31; anything else gets 400 so that kubectl
    // falls back to SPDY.
    std::string offered = req.headers.Get("Sec-WebSocket-Protocol");
    if (offered.find(kTunnelProtocol) == std::string::npos) {
      return w.ReplyError(InvalidArgument("port-forward over WebSocket needs subprotocol " +
                                          std::string(kTunnelProtocol)));
    }
    auto conn = stream::AcceptWebSocket(req, w, kTunnelProtocol);
    if (!conn) return;
    http::WebSocket ws(*conn, http::WebSocket::Role::kServer);
    WsByteStream tunnel(ws);
    PortForwardSpdy(tunnel, base);
    return;
  }
  if (!IsSpdyUpgrade(req.headers)) return w.ReplyError(InvalidArgument("Upgrade request required"));
  if (NegotiateProtocol(req.headers, {std::string(kPortForwardProtocol)}).empty()) {
    w.SetHeader("X-Accepted-Stream-Protocol-Versions", std::string(kPortForwardProtocol));
    return w.Reply(403, "unable to upgrade: unable to negotiate protocol", "text/plain");
  }
  w.SetHeader("Connection", "Upgrade");
  w.SetHeader("Upgrade", "SPDY/3.1");
  w.SetHeader("X-Stream-Protocol-Version", std::string(kPortForwardProtocol));
  auto conn = w.Upgrade(101);
  if (!conn) return;
  PortForwardSpdy(*conn, base);
}

void KubeletStreams::PortForwardSpdy(http::ByteStream& conn, const api::PortForwardRequest& base) {
  stream::SpdySession session(conn);
  struct Pair {
    std::shared_ptr<SpdyPortChannels> io = std::make_shared<SpdyPortChannels>();
    uint16_t port = 0;
    Clock::time_point first_seen = Clock::now();
  };
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
  };
  struct Shared {
    Mutex mu;
    CondVar cv;
    std::map<std::string, Pair> pending IL_GUARDED_BY(mu);
    std::vector<std::shared_ptr<SpdyPortChannels>> active IL_GUARDED_BY(mu);
    std::list<Worker> workers IL_GUARDED_BY(mu);
    bool ended IL_GUARDED_BY(mu) = false;
  } sh;
  // Drops pairs whose second stream never came (the kubelet's creation timeout) and joins
  // finished workers, so a long port-forward does not pile up threads.
  std::thread reaper([&] {
    MutexLock lock(sh.mu);
    while (!sh.ended) {
      sh.cv.WaitFor(sh.mu, std::chrono::seconds(1));
      for (auto it = sh.pending.begin(); it != sh.pending.end();) {
        if (Clock::now() - it->second.first_seen < opt_.creation_timeout) {
          ++it;
          continue;
        }
        auto& io = it->second.io;
        if (io->error) {
          io->error->Write("timed out waiting for streams");
          io->error->Finish();
        }
        if (io->data) io->data->Reset();
        it = sh.pending.erase(it);
      }
      for (auto it = sh.workers.begin(); it != sh.workers.end();) {
        if (*it->done) {
          it->thread.join();
          it = sh.workers.erase(it);
        } else {
          ++it;
        }
      }
    }
  });
  IdleWatch idle(
      opt_.idle_timeout, [&] { return session.last_activity(); }, [&] { session.Close(); });
  session.Serve([&](const std::shared_ptr<stream::SpdyStream>& s) {
    std::string type = s->header("streamtype");
    std::string port_text = s->header("port");
    long port = 0;
    try {
      port = std::stol(port_text);
    } catch (const std::exception&) {
    }
    if ((type != "data" && type != "error") || port <= 0 || port > 65535) return false;
    std::string id = s->header("requestid");
    if (id.empty()) id = std::to_string(type == "error" ? s->id() : s->id() - 2);
    MutexLock lock(sh.mu);
    Pair& p = sh.pending[id];
    p.port = static_cast<uint16_t>(port);
    auto& slot = type == "data" ? p.io->data : p.io->error;
    if (slot) {  // a second stream of one type for one request
      if (p.io->error) p.io->error->Write("duplicate " + type + " stream for request " + id);
      return false;
    }
    slot = s;
    if (!p.io->data || !p.io->error) return true;
    auto io = p.io;
    api::PortForwardRequest r = base;
    r.port = p.port;
    sh.pending.erase(id);
    sh.active.push_back(io);
    Worker& w = sh.workers.emplace_back();
    auto done = w.done;
    w.thread = std::thread([this, io, r, done] {
      Audit()->info("audit: {}",
                    stream::AuditLine(r.user.empty() ? "system:anonymous" : r.user, r));
      Status st = backend_->PortForward({}, r, *io);
      io->CancelRead();
      io->data->Finish();
      if (!st.ok()) {
        io->error->Write("error forwarding port " + std::to_string(r.port) + " to pod " +
                         r.namespace_ + "/" + r.pod_name + ": " + st.message());
      }
      io->error->Finish();
      *done = true;
    });
    return true;
  });
  // The connection ended: every pair still running sees it.
  {
    MutexLock lock(sh.mu);
    for (auto& io : sh.active) io->ConnectionGone();
    sh.ended = true;
    sh.cv.NotifyAll();
  }
  reaper.join();
  std::list<Worker> left;
  {
    MutexLock lock(sh.mu);
    left.swap(sh.workers);
  }
  for (auto& w : left) w.thread.join();
  session.Close();
}

}  // namespace il::vk

#include "api/probe.h"

#include <charconv>

#include "api/pod.h"

namespace il::api {
namespace {

// Resolves `port` (a number, or a name in the container's ports) as the kubelet does.
void ResolvePort(const json::value& container, const json::value* port, Handler& h,
                 int default_port) {
  if (!port || port->is_null()) {
    if (default_port) {
      h.port = default_port;
    } else {
      h.port_error = "port is missing";
    }
    return;
  }
  int64_t n = -1;
  if (port->is_int64()) {
    n = port->as_int64();
  } else if (port->is_uint64()) {
    n = static_cast<int64_t>(std::min<uint64_t>(port->as_uint64(), 1u << 20));
  } else if (port->is_string()) {
    std::string_view name = port->as_string();
    if (name.empty() && default_port) {
      h.port = default_port;
      return;
    }
    if (const auto* ports = Find(container, {"ports"}); ports && ports->is_array()) {
      for (const auto& p : ports->as_array()) {
        if (GetString(p, {"name"}) == name) n = GetInt(p, {"containerPort"}, -1);
      }
    }
    if (n < 0) {  // the kubelet falls back to reading the name as a number
      int v = -1;
      auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
      if (ec == std::errc() && end == name.data() + name.size()) {
        n = v;
      } else {
        h.port_error = "couldn't find port: " + std::string(name);
        return;
      }
    }
  }
  if (n < 1 || n > 65535) {
    h.port_error = "invalid port number: " + std::to_string(n);
    return;
  }
  h.port = static_cast<int>(n);
}

// Reads one handler object (a probe or a hook). `what` names it in errors.
Result<Handler> ParseHandler(const json::value& container, const json::object& o,
                             const std::string& what, bool hook) {
  Handler h;
  int count = 0;
  if (const auto* e = o.if_contains("exec"); e && !e->is_null()) {
    ++count;
    h.kind = HandlerKind::kExec;
    const auto* cmd = Find(*e, {"command"});
    if (cmd && !cmd->is_null()) {
      if (!cmd->is_array()) return InvalidArgument(what + ".exec.command must be a list");
      for (const auto& a : cmd->as_array()) {
        if (!a.is_string()) {
          return InvalidArgument(what + ".exec.command must be a list of strings");
        }
        h.command.emplace_back(a.as_string());
      }
    }
    if (h.command.empty()) return InvalidArgument(what + ".exec.command must not be empty");
  }
  if (const auto* g = o.if_contains("httpGet"); g && !g->is_null()) {
    ++count;
    h.kind = HandlerKind::kHttpGet;
    std::string scheme = GetString(*g, {"scheme"});
    if (!scheme.empty()) h.scheme = scheme;
    if (h.scheme != "HTTP" && h.scheme != "HTTPS") {
      return InvalidArgument(what + ".httpGet.scheme must be HTTP or HTTPS");
    }
    h.host = GetString(*g, {"host"});
    std::string path = GetString(*g, {"path"});
    if (!path.empty()) h.path = path;
    ResolvePort(container, Find(*g, {"port"}), h, hook ? 80 : 0);
    if (const auto* hs = Find(*g, {"httpHeaders"}); hs && hs->is_array()) {
      for (const auto& x : hs->as_array()) {
        h.headers.emplace_back(GetString(x, {"name"}), GetString(x, {"value"}));
      }
    }
  }
  if (const auto* t = o.if_contains("tcpSocket"); t && !t->is_null()) {
    ++count;
    h.kind = HandlerKind::kTcpSocket;
    h.host = GetString(*t, {"host"});
    ResolvePort(container, Find(*t, {"port"}), h, 0);
  }
  if (const auto* r = o.if_contains("grpc"); r && !r->is_null()) {
    ++count;
    h.kind = HandlerKind::kGrpc;
    const auto* port = Find(*r, {"port"});
    if (port && port->is_string()) return InvalidArgument(what + ".grpc.port must be a number");
    ResolvePort(container, port, h, 0);
    h.grpc_service = GetString(*r, {"service"});
  }
  if (const auto* s = o.if_contains("sleep"); s && !s->is_null()) {
    ++count;
    h.kind = HandlerKind::kSleep;
    h.sleep_seconds = GetInt(*s, {"seconds"}, 0);
    if (h.sleep_seconds < 0) return InvalidArgument(what + ".sleep.seconds must be >= 0");
  }
  // Control characters in what becomes a request line or a header (CR/LF would smuggle
  // headers into the probe request): every run fails, as Go's HTTP client refuses such a URL
  // at run time; the pod itself is accepted as the API server accepts it.
  auto has_control = [](const std::string& v) {
    for (unsigned char ch : v) {
      if (ch < 0x20 || ch == 0x7f) return true;
    }
    return false;
  };
  bool bad = has_control(h.path) || has_control(h.host) || has_control(h.grpc_service);
  for (const auto& [k, v] : h.headers) bad = bad || has_control(k) || has_control(v);
  if (bad && h.port_error.empty()) h.port_error = "invalid control character in URL or header";
  if (count == 0) return InvalidArgument(what + " must specify a handler type");
  if (count > 1) return InvalidArgument(what + " may not specify more than 1 handler type");
  if (!hook && h.kind == HandlerKind::kSleep) {
    return InvalidArgument(what + ".sleep is only allowed in lifecycle hooks");
  }
  return h;
}

Result<std::optional<Probe>> ParseProbe(const json::value& container, std::string_view key,
                                        ProbeType type) {
  const auto* f = container.is_object() ? container.as_object().if_contains(key) : nullptr;
  if (!f || f->is_null()) return std::optional<Probe>();
  std::string what(key);
  if (!f->is_object()) return InvalidArgument(what + " must be an object");
  const auto& o = f->as_object();
  Probe p;
  p.type = type;
  IL_ASSIGN_OR_RETURN(p.handler, ParseHandler(container, o, what, false));
  auto field = [&](std::string_view name, int64_t def, int64_t min) -> Result<int64_t> {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return def;
    int64_t n = GetInt(*f, {name}, min - 1);
    if (!v->is_number() || n < min) {
      return InvalidArgument(what + "." + std::string(name) + " must be >= " + std::to_string(min));
    }
    return n;
  };
  IL_ASSIGN_OR_RETURN(p.initial_delay_seconds, field("initialDelaySeconds", 0, 0));
  IL_ASSIGN_OR_RETURN(p.period_seconds, field("periodSeconds", 10, 1));
  IL_ASSIGN_OR_RETURN(p.timeout_seconds, field("timeoutSeconds", 1, 1));
  IL_ASSIGN_OR_RETURN(p.success_threshold, field("successThreshold", 1, 1));
  IL_ASSIGN_OR_RETURN(p.failure_threshold, field("failureThreshold", 3, 1));
  if (type != ProbeType::kReadiness && p.success_threshold != 1) {
    return InvalidArgument(what + ".successThreshold must be 1");
  }
  if (const auto* g = o.if_contains("terminationGracePeriodSeconds"); g && g->is_number()) {
    if (type == ProbeType::kReadiness) {
      return InvalidArgument(what + ".terminationGracePeriodSeconds must not be set");
    }
    int64_t n = GetInt(*f, {"terminationGracePeriodSeconds"}, 0);
    if (n < 1) return InvalidArgument(what + ".terminationGracePeriodSeconds must be >= 1");
    p.termination_grace_period_seconds = n;
  }
  return std::optional<Probe>(std::move(p));
}

}  // namespace

const char* ProbeTypeName(ProbeType t) {
  switch (t) {
    case ProbeType::kStartup:
      return "Startup";
    case ProbeType::kLiveness:
      return "Liveness";
    case ProbeType::kReadiness:
      return "Readiness";
  }
  return "Unknown";
}

Result<ContainerProbes> ParseProbes(const json::value& container) {
  ContainerProbes out;
  IL_ASSIGN_OR_RETURN(out.startup, ParseProbe(container, "startupProbe", ProbeType::kStartup));
  IL_ASSIGN_OR_RETURN(out.liveness, ParseProbe(container, "livenessProbe", ProbeType::kLiveness));
  IL_ASSIGN_OR_RETURN(out.readiness,
                      ParseProbe(container, "readinessProbe", ProbeType::kReadiness));
  return out;
}

Result<Lifecycle> ParseLifecycle(const json::value& container) {
  Lifecycle out;
  const auto* l = Find(container, {"lifecycle"});
  if (!l || l->is_null()) return out;
  if (!l->is_object()) return InvalidArgument("lifecycle must be an object");
  for (auto [key, slot] :
       {std::pair{"postStart", &out.post_start}, std::pair{"preStop", &out.pre_stop}}) {
    const auto* h = l->as_object().if_contains(key);
    if (!h || h->is_null()) continue;
    std::string what = std::string("lifecycle.") + key;
    if (!h->is_object()) return InvalidArgument(what + " must be an object");
    IL_ASSIGN_OR_RETURN(auto handler, ParseHandler(container, h->as_object(), what, true));
    *slot = std::move(handler);
  }
  return out;
}

ProbeTracker::Verdict ProbeTracker::Record(bool ok) {
  if (ok) {
    failures_ = 0;
    ++successes_;
    if (successes_ >= success_threshold_ && result_ != true) {
      result_ = true;
      return Verdict::kNowSuccess;
    }
  } else {
    successes_ = 0;
    ++failures_;
    if (failures_ >= failure_threshold_ && result_ != false) {
      result_ = false;
      return Verdict::kNowFailure;
    }
  }
  return Verdict::kUnchanged;
}

void ProbeTracker::Reset() {
  successes_ = failures_ = 0;
  result_.reset();
}

}  // namespace il::api

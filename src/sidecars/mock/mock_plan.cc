#include "sidecars/mock/mock_plan.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "api/pod.h"

namespace il::mock {
namespace json = boost::json;

namespace {

constexpr double kMaxSeconds = 1e7;
constexpr double kMinTickSeconds = 0.01;

// Annotation bases and whether they take a ".<container>" suffix, may stand alone.
struct KeyRule {
  bool per_container;
  bool pod_wide;
};
const std::map<std::string, KeyRule, std::less<>>& Rules() {
  static const std::map<std::string, KeyRule, std::less<>> r = {
      {"pending-seconds", {false, true}},
      {"run-seconds", {true, true}},
      {"init-run-seconds", {false, true}},
      {"exit-code", {true, true}},
      {"logs", {true, false}},
      {"log-interval-seconds", {true, true}},
      {"run-forever", {false, true}},
      {"create-error", {false, true}},
      {"pod-ip", {false, true}}};
  return r;
}

Status Bad(const std::string& key, const std::string& value, const std::string& why) {
  return InvalidArgument("annotation " + std::string(kAnnotationPrefix) + key + ": '" + value +
                         "' " + why);
}

// The mock's annotations with the prefix stripped, checked against Rules() and the
// pod's container names.
Result<std::map<std::string, std::string>> MockAnnotations(const json::value& pod,
                                                           const std::set<std::string>& names) {
  std::map<std::string, std::string> out;
  const auto* a = api::Find(pod, {"metadata", "annotations"});
  if (!a || !a->is_object()) return out;
  for (const auto& kv : a->as_object()) {
    std::string_view full = kv.key();
    if (full.substr(0, kAnnotationPrefix.size()) != kAnnotationPrefix) continue;
    std::string key(full.substr(kAnnotationPrefix.size()));
    std::string value =
        kv.value().is_string() ? std::string(kv.value().as_string()) : json::serialize(kv.value());
    if (!kv.value().is_string()) return Bad(key, value, "must be a string");
    auto dot = key.find('.');
    std::string base = key.substr(0, dot);
    auto rule = Rules().find(base);
    if (rule == Rules().end()) return Bad(key, value, "is an unknown mock annotation");
    if (dot == std::string::npos && !rule->second.pod_wide) {
      return Bad(key, value, "needs a container name: " + base + ".<container>");
    }
    if (dot != std::string::npos) {
      if (!rule->second.per_container) return Bad(key, value, "takes no container name");
      if (!names.count(key.substr(dot + 1))) {
        return Bad(key, value, "names no container of the pod");
      }
    }
    out[key] = value;
  }
  return out;
}

class Reader {
 public:
  explicit Reader(const std::map<std::string, std::string>& a) : a_(a) {}

  // The value of "<base>.<container>", else of "<base>", else nullptr.
  const std::string* Find(const std::string& base, const std::string& container = "") const {
    if (!container.empty()) {
      if (auto it = a_.find(base + "." + container); it != a_.end()) return &it->second;
    }
    auto it = a_.find(base);
    return it == a_.end() ? nullptr : &it->second;
  }
  std::string KeyOf(const std::string& base, const std::string& container) const {
    return container.empty() || !a_.count(base + "." + container) ? base : base + "." + container;
  }

  Result<Offset> Seconds(const std::string& base, const std::string& container, Offset def) const {
    const std::string* v = Find(base, container);
    if (!v) return def;
    auto s = ParseSeconds(*v);
    if (!s) return Bad(KeyOf(base, container), *v, "is not a number of seconds (0 to 1e7)");
    return *s;
  }

  Result<int> ExitCode(const std::string& container) const {
    const std::string* v = Find("exit-code", container);
    if (!v) return 0;
    int code = -1;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), code);
    if (ec != std::errc() || p != v->data() + v->size() || code < 0 || code > 255) {
      return Bad(KeyOf("exit-code", container), *v, "is not an exit code (0 to 255)");
    }
    return code;
  }

  Result<Offset> TickInterval(const std::string& container) const {
    IL_ASSIGN_OR_RETURN(Offset t, Seconds("log-interval-seconds", container, Offset{}));
    if (t.count() != 0 && t < std::chrono::duration<double>(kMinTickSeconds)) {
      return Bad(KeyOf("log-interval-seconds", container), *Find("log-interval-seconds", container),
                 "is below the minimum of 0.01 seconds");
    }
    return t;
  }

 private:
  const std::map<std::string, std::string>& a_;
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// `echo a b` (as command, or command plus args) prints "a b".
std::optional<std::string> EchoOutput(const json::value& c) {
  const auto* cmd = api::Find(c, {"command"});
  if (!cmd || !cmd->is_array() || cmd->as_array().empty()) return std::nullopt;
  const auto& first = cmd->as_array()[0];
  if (!first.is_string()) return std::nullopt;
  std::string_view prog = first.as_string();
  if (prog != "echo" && !(prog.size() > 5 && prog.substr(prog.size() - 5) == "/echo")) {
    return std::nullopt;
  }
  std::string out;
  auto append = [&out](const json::array& words, size_t from) {
    for (size_t i = from; i < words.size(); ++i) {
      if (!words[i].is_string()) continue;
      if (!out.empty()) out.push_back(' ');
      out += words[i].as_string();
    }
  };
  append(cmd->as_array(), 1);
  if (const auto* args = api::Find(c, {"args"}); args && args->is_array()) {
    append(args->as_array(), 0);
  }
  return out;
}

Result<ContainerPlan> PlanContainer(const Reader& r, const json::value& c, bool init) {
  ContainerPlan p;
  p.name = api::GetString(c, {"name"});
  p.image = api::GetString(c, {"image"});
  p.init = init;
  const Offset def = init ? std::chrono::milliseconds(200) : std::chrono::seconds(1);
  // For init containers the pod-wide default is init-run-seconds; run-seconds.<name> wins.
  Offset run = def;
  if (init) {
    IL_ASSIGN_OR_RETURN(run, r.Seconds("init-run-seconds", "", def));
    if (r.Find("run-seconds." + p.name)) {
      IL_ASSIGN_OR_RETURN(run, r.Seconds("run-seconds." + p.name, "", def));
    }
  } else {
    IL_ASSIGN_OR_RETURN(run, r.Seconds("run-seconds", p.name, def));
  }
  p.run = run;
  p.log_span = run;
  // The pod-wide exit-code is for app containers: an init container fails only when
  // exit-code.<name> says so, else every pod with one would never reach its app.
  if (!init || r.Find("exit-code." + p.name)) {
    IL_ASSIGN_OR_RETURN(p.exit_code, r.ExitCode(p.name));
  }
  IL_ASSIGN_OR_RETURN(p.tick_interval, r.TickInterval(p.name));
  if (const std::string* logs = r.Find("logs." + p.name)) {
    p.lines = SplitLines(*logs);
  } else if (auto echo = EchoOutput(c)) {
    p.lines = std::vector<std::string>{*echo};
  }
  return p;
}

}  // namespace

std::optional<Offset> ParseSeconds(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  if (!std::isfinite(v) || v < 0 || v > kMaxSeconds) return std::nullopt;
  return std::chrono::duration_cast<Offset>(std::chrono::duration<double>(v));
}

Result<MockPlan> ParseMockPlan(const json::value& pod) {
  std::set<std::string> names;
  for (const auto* list : {&api::Containers(pod), &api::InitContainers(pod)}) {
    for (const auto& c : *list) names.insert(api::GetString(c, {"name"}));
  }
  IL_ASSIGN_OR_RETURN(auto ann, MockAnnotations(pod, names));
  Reader r(ann);
  MockPlan plan;
  IL_ASSIGN_OR_RETURN(plan.pending,
                      r.Seconds("pending-seconds", "", std::chrono::milliseconds(200)));
  bool forever = false;
  if (const std::string* v = r.Find("run-forever")) {
    if (*v != "true" && *v != "false")
      return Bad("run-forever", *v, "must be \"true\" or \"false\"");
    forever = *v == "true";
  }
  if (const std::string* v = r.Find("create-error")) {
    plan.create_error = v->empty() ? "mock create-error" : *v;
  }
  if (const std::string* v = r.Find("pod-ip")) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, v->c_str(), buf) != 1 && inet_pton(AF_INET6, v->c_str(), buf) != 1) {
      return Bad("pod-ip", *v, "is not an IPv4 or IPv6 address");
    }
    plan.pod_ip = *v;
  }
  std::optional<Offset> t = plan.pending;  // start of the next container; nullopt: never
  for (const auto& c : api::InitContainers(pod)) {
    IL_ASSIGN_OR_RETURN(auto p, PlanContainer(r, c, true));
    p.start = t;
    if (t) t = p.exit_code == 0 ? std::optional<Offset>(*t + *p.run) : std::nullopt;
    plan.init_containers.push_back(std::move(p));
  }
  for (const auto& c : api::Containers(pod)) {
    IL_ASSIGN_OR_RETURN(auto p, PlanContainer(r, c, false));
    p.start = t;
    if (forever) p.run.reset();
    plan.containers.push_back(std::move(p));
  }
  return plan;
}

}  // namespace il::mock

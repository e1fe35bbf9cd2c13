#include "vk/node_builder.h"

#include <algorithm>
#include <set>

#include "api/pod.h"
#include "api/quantity.h"
#include "core/numbers.h"

namespace il::vk {
namespace json = boost::json;

namespace {

// Configured accelerators summed per type; zero values are left out, as upstream does.
std::map<std::string, long long> AcceleratorTotals(const VkConfig& c) {
  std::map<std::string, long long> acc;
  for (const auto& a : c.resources.accelerators) {
    if (auto n = ParseInt64(a.available); n && *n > 0) {
      acc[a.resource_type] = SaturatingAdd(acc[a.resource_type], *n);
    }
  }
  return acc;
}

// A ping's resource value as a quantity string, when it is one and above zero.
std::optional<std::string> PositiveQuantity(const json::value& v) {
  std::string q = v.is_string()   ? std::string(v.as_string())
                  : v.is_number() ? json::serialize(v)
                                  : std::string();
  if (q.empty() || !IsQuantity(q)) return std::nullopt;
  auto parsed = api::ParseQuantity(q);
  if (!parsed.ok() || !(*parsed > 0)) return std::nullopt;
  return q;
}

// `q` or, when the admin's bound for `name` is lower, the bound.
std::string Capped(const std::string& name, const std::string& q, const ResourceMap& bounds) {
  auto b = bounds.find(name);
  if (b == bounds.end()) return q;
  auto value = api::ParseQuantity(q);
  auto bound = api::ParseQuantity(b->second);
  if (value.ok() && bound.ok() && *value > *bound) return b->second;
  return q;
}

bool IsDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

ResourceMap InitialCapacity(const VkConfig& c) {
  ResourceMap m{
      {"cpu", c.resources.cpu}, {"memory", c.resources.memory}, {"pods", c.resources.pods}};
  for (const auto& [type, n] : AcceleratorTotals(c)) m[type] = std::to_string(n);
  return m;
}

ResourceMap CapacityBounds(const VkConfig& c) {
  ResourceMap m;
  const ResourceMap initial = InitialCapacity(c);
  for (const auto& name : c.resources.configured) {
    if (auto it = initial.find(name); it != initial.end()) m[name] = it->second;
  }
  for (const auto& [type, n] : AcceleratorTotals(c)) m[type] = std::to_string(n);
  return m;
}

std::map<std::string, std::string> NodeLabels(const VkConfig& c) {
  std::map<std::string, std::string> l = {
      {"type", "virtual-kubelet"},
      {"kubernetes.io/role", "agent"},
      {"kubernetes.io/hostname", c.node_name},
      {"kubernetes.io/os", "linux"},
      {"kubernetes.io/arch", "amd64"},
      {"beta.kubernetes.io/os", "linux"},  // the seed's example pods select on it
      {"beta.kubernetes.io/arch", "amd64"},
      {"virtual-node.interlink/type", "virtual-kubelet"},
      {"node.kubernetes.io/exclude-from-external-load-balancers", "true"},
      {"alpha.service-controller.kubernetes.io/exclude-balancer", "true"},
  };
  for (const auto& a : c.resources.accelerators) {
    if (a.model.empty()) continue;
    if (a.resource_type == "nvidia.com/gpu") l["nvidia-gpu-type"] = a.model;
    if (a.resource_type == "xilinx.com/fpga") l["xilinx-fpga-type"] = a.model;
    if (a.resource_type == "intel.com/fpga") l["intel-fpga-type"] = a.model;
  }
  for (const auto& [k, v] : c.labels) l[k] = v;
  return l;
}

std::vector<Taint> DesiredTaints(const VkConfig& c, const NodeState& s) {
  std::vector<Taint> t = {{kSystemTaintKey, "true", "NoSchedule"}};
  if (!c.disable_provider_taint) t.push_back({kProviderTaintKey, c.provider, "NoSchedule"});
  for (const auto& x : s.has_ping_taints ? s.ping_taints : c.taints) {
    if (x.key == kSystemTaintKey) continue;
    t.push_back(x);
  }
  return t;
}

json::object TaintJson(const Taint& t) {
  json::object o{{"key", t.key}, {"effect", t.effect}};
  if (!t.value.empty()) o["value"] = t.value;
  return o;
}

json::array MergeTaints(const json::array& current, const std::vector<Taint>& desired,
                        const std::vector<std::string>& managed_keys) {
  std::set<std::string> managed(managed_keys.begin(), managed_keys.end());
  for (const auto& t : desired) managed.insert(t.key);
  json::array out;
  for (const auto& t : desired) out.push_back(TaintJson(t));
  for (const auto& t : current) {
    std::string key = api::GetString(t, {"key"});
    if (!managed.count(key)) out.push_back(t);
  }
  return out;
}

bool ApplyPing(const api::PingResponse& p, const ResourceMap& bounds, NodeState* s,
               std::vector<std::string>* warnings) {
  bool changed = false;
  auto set = [&](const std::string& name, const std::string& v) {
    std::string capped = Capped(name, v, bounds);
    if (s->capacity[name] != capped) {
      s->capacity[name] = std::move(capped);
      changed = true;
    }
  };
  for (const char* name : {"cpu", "memory", "pods"}) {
    const auto* v = p.resources.if_contains(name);
    if (!v || v->is_null()) continue;
    auto q = PositiveQuantity(*v);
    if (!q || (std::string(name) == "pods" && !IsDigits(*q))) {
      warnings->push_back(std::string("ping: ignoring ") + name + " " + json::serialize(*v) +
                          ": not a positive quantity; keeping " + s->capacity[name]);
      continue;
    }
    set(name, *q);
  }
  if (const auto* acc = p.resources.if_contains("accelerators"); acc && acc->is_array()) {
    std::map<std::string, long long> sum;
    for (const auto& a : acc->as_array()) {
      std::string type = api::GetString(a, {"resourceType"});
      const auto* av = a.is_object() ? a.as_object().if_contains("available") : nullptr;
      std::string q = !av               ? std::string()
                      : av->is_string() ? std::string(av->as_string())
                      : av->is_number() ? json::serialize(*av)
                                        : std::string();
      auto n = IsDigits(q) ? ParseInt64(q) : std::nullopt;  // from the network: never throw
      if (type.empty() || !n) {
        warnings->push_back("ping: ignoring bad accelerator " + json::serialize(a));
        continue;
      }
      sum[type] = SaturatingAdd(sum[type], *n);
    }
    for (const auto& [type, n] : sum) {
      if (n <= 0) {
        warnings->push_back("ping: ignoring " + type + " 0: not a positive quantity");
        continue;
      }
      set(type, std::to_string(n));
    }
  }
  if (p.has_taints) {
    std::vector<Taint> taints;
    for (const auto& t : p.taints) {
      Taint x{api::GetString(t, {"key"}), api::GetString(t, {"value"}),
              api::GetString(t, {"effect"})};
      if (x.key.empty()) {
        warnings->push_back("ping: ignoring taint without key " + json::serialize(t));
        continue;
      }
      if (x.effect != "PreferNoSchedule" && x.effect != "NoExecute") x.effect = "NoSchedule";
      taints.push_back(std::move(x));
    }
    if (!s->has_ping_taints || taints != s->ping_taints) changed = true;
    s->ping_taints = std::move(taints);
    s->has_ping_taints = true;
  }
  return changed;
}

NodeHealth HealthFromPing(int http_status, const Status& status, const std::string& body) {
  NodeHealth h;
  h.pinged = true;
  std::string excerpt = body.substr(0, 256);
  if (http_status >= 200 && http_status < 300) {
    h.ok = true;
    h.reason = "InterlinkPingSuccessful";
    h.message = "Ping successful with code " + std::to_string(http_status);
    return h;
  }
  if (http_status == 0) {
    h.reason = "InterlinkUnreachable";
    h.message = "interLink cannot be reached: " + status.message();
  } else if (http_status == 502 || http_status == 503 || http_status == 504) {
    h.reason = "SidecarUnreachable";
    h.message = "interLink answered " + std::to_string(http_status) +
                ": its sidecar is unreachable or failing: " + status.message();
  } else if (http_status == 401 || http_status == 403) {
    h.reason = "InterlinkUnauthorized";
    h.message =
        "interLink refused the VK token (" + std::to_string(http_status) + "): " + status.message();
  } else {
    h.reason = "InterlinkPingFailed";
    h.message = "Ping failed with code " + std::to_string(http_status) + ": " + status.message();
  }
  return h;
}

namespace {

json::object Condition(const std::string& type, bool status, const std::string& reason,
                       const std::string& message, const json::array& previous,
                       const std::string& now) {
  std::string s = status ? "True" : "False";
  std::string transition = now;
  for (const auto& p : previous) {
    if (api::GetString(p, {"type"}) == type && api::GetString(p, {"status"}) == s) {
      std::string t = api::GetString(p, {"lastTransitionTime"});
      if (!t.empty()) transition = t;
    }
  }
  return {{"type", type},
          {"status", s},
          {"reason", reason},
          {"message", message},
          {"lastHeartbeatTime", now},
          {"lastTransitionTime", transition}};
}

}  // namespace

json::object NodeStatusJson(const VkConfig& c, const NodeState& s, const json::array& previous,
                            std::chrono::system_clock::time_point now_tp) {
  std::string now = api::Rfc3339(now_tp);
  json::object res;
  for (const auto& [k, v] : s.capacity) res[k] = v;
  const auto& h = s.health;
  json::array conds;
  if (!h.pinged) {
    conds.push_back(Condition("Ready", false, "KubeletNotReady",
                              "waiting for the first interLink ping", previous, now));
  } else if (h.ok) {
    conds.push_back(Condition("Ready", true, "KubeletReady",
                              "interLink and its sidecar answer the ping", previous, now));
  } else {
    conds.push_back(Condition("Ready", false, h.reason, h.message, previous, now));
  }
  conds.push_back(Condition("MemoryPressure", false, "KubeletHasSufficientMemory",
                            "no memory pressure reported", previous, now));
  conds.push_back(Condition("DiskPressure", false, "KubeletHasNoDiskPressure",
                            "no disk pressure reported", previous, now));
  conds.push_back(Condition("PIDPressure", false, "KubeletHasSufficientPID",
                            "no PID pressure reported", previous, now));
  conds.push_back(Condition("NetworkUnavailable", false, "RouteCreated",
                            "the virtual node needs no routes", previous, now));
  conds.push_back(Condition("InterlinkConnectivity", h.ok,
                            h.ok ? "InterlinkPingSuccessful" : "InterlinkPingFailed",
                            h.pinged ? h.message : "not pinged yet", previous, now));
  return {
      {"capacity", res},
      {"allocatable", res},
      {"conditions", conds},
      // Only InternalIP: API servers prefer Hostname by default, and the node name need
      // not resolve (reference virtual-kubelet §1.5).
      {"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", c.internal_ip}}}},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", c.kubelet_port}}}}},
      {"nodeInfo",
       {{"machineID", ""},
        {"systemUUID", ""},
        {"bootID", ""},
        {"kernelVersion", ""},
        {"osImage", "interLink virtual node"},
        {"containerRuntimeVersion", "interlink://" + c.provider},
        {"kubeletVersion", kKubeletVersion},
        {"kubeProxyVersion", ""},
        {"operatingSystem", "linux"},
        {"architecture", "amd64"}}},
  };
}

json::object NodeObject(const VkConfig& c, const NodeState& s,
                        std::chrono::system_clock::time_point now) {
  json::object labels;
  for (const auto& [k, v] : NodeLabels(c)) labels[k] = v;
  json::array taints;
  for (const auto& t : DesiredTaints(c, s)) taints.push_back(TaintJson(t));
  json::object spec{{"taints", taints}, {"providerID", "external:///" + c.node_name}};
  if (!c.pod_cidr.empty()) spec["podCIDR"] = c.pod_cidr;
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", c.node_name}, {"labels", labels}}},
          {"spec", spec},
          {"status", NodeStatusJson(c, s, {}, now)}};
}

json::value StatusFingerprint(const json::object& status) {
  json::object copy = status;
  if (auto* conds = copy.if_contains("conditions"); conds && conds->is_array()) {
    for (auto& cnd : conds->as_array()) {
      if (cnd.is_object()) cnd.as_object().erase("lastHeartbeatTime");
    }
  }
  return copy;
}

}  // namespace il::vk

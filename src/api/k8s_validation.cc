#include "api/k8s_validation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "api/pod.h"
#include "api/types.h"

namespace il::api {
namespace {

namespace json = boost::json;

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alnum(char c) { return LowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
// `fold` checks the value as if lower-cased (annotation keys), without copying it.
bool DnsChar(char c, bool fold) { return fold ? Alnum(c) : LowerAlnum(c); }

// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit: one label of a subdomain.
bool IsDnsLabelPattern(std::string_view s, bool fold = false) {
  if (s.empty() || !DnsChar(s.front(), fold) || !DnsChar(s.back(), fold)) return false;
  for (char c : s) {
    if (!DnsChar(c, fold) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomainImpl(std::string_view s, bool fold) {
  if (s.empty() || s.size() > kDns1123SubdomainMaxLength) return false;
  size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    if (!IsDnsLabelPattern(s.substr(start, dot - start), fold)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, the name part of a qualified name.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !Alnum(s.front()) || !Alnum(s.back())) return false;
  for (char c : s) {
    if (!Alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsQualifiedNameImpl(std::string_view s, bool fold) {
  std::string_view name = s;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (!IsDnsSubdomainImpl(prefix, fold)) return false;
  }
  return name.size() <= kQualifiedNameMaxLength && IsQualifiedNamePart(name);
}

// Error messages quote the value, cut so that a 256 KiB key cannot flood a log line.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  if (s.size() <= kMax) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMax)) + "...' (" + std::to_string(s.size()) + " bytes)";
}

Status Bad(const std::string& what) { return InvalidArgument(what); }

const json::object* ObjectOrNull(const json::value* v) {
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string_view NameOf(const json::value& v) {
  const auto* n = v.is_object() ? v.as_object().if_contains("name") : nullptr;
  return n && n->is_string() ? std::string_view(n->as_string()) : std::string_view();
}

// A name that occurs twice, or empty. Sorting views costs no allocation per name, which
// matters on /status hops that validate 10,000 pods.
std::string_view Duplicate(std::vector<std::string_view> names) {
  std::sort(names.begin(), names.end());
  auto it = std::adjacent_find(names.begin(), names.end());
  return it == names.end() ? std::string_view() : *it;
}

Status ValidateContainers(const json::value& pod) {
  std::vector<std::string_view> names;
  for (const auto* list : {&InitContainers(pod), &Containers(pod)}) {
    for (const auto& c : *list) {
      if (!c.is_object()) return Bad("pod containers must be objects");
      std::string_view cname = NameOf(c);
      if (!IsDnsLabel(cname)) {
        return Bad("container name " + Quote(cname) +
                   " is not a valid DNS-1123 label (at most 63 of [a-z0-9-])");
      }
      if (const auto* img = c.as_object().if_contains("image"); img && !img->is_string()) {
        return Bad("container " + std::string(cname) + " image must be a string");
      }
      names.push_back(cname);
    }
  }
  if (auto d = Duplicate(std::move(names)); !d.empty()) {
    return Bad("container name '" + std::string(d) + "' is duplicated");
  }
  return Status::Ok();
}

Status ValidateSpecNames(const json::value& pod) {
  const auto* vols = Find(pod, {"spec", "volumes"});
  if (vols && vols->is_array()) {
    std::vector<std::string_view> names;
    for (const auto& v : vols->as_array()) {
      std::string_view vname = NameOf(v);
      if (!IsDnsLabel(vname))
        return Bad("volume name " + Quote(vname) + " is not a DNS-1123 label");
      names.push_back(vname);
    }
    if (auto d = Duplicate(std::move(names)); !d.empty()) {
      return Bad("volume name '" + std::string(d) + "' is duplicated");
    }
  }
  for (const char* f : {"hostname", "subdomain"}) {
    std::string v = GetString(pod, {"spec", f});
    if (!v.empty() && !IsDnsLabel(v)) {
      return Bad(std::string("spec.") + f + " " + Quote(v) + " is not a DNS-1123 label");
    }
  }
  return ValidateLabels(Find(pod, {"spec", "nodeSelector"}), "spec.nodeSelector");
}

}  // namespace

bool IsDnsLabel(std::string_view s) {
  return s.size() <= kDns1123LabelMaxLength && IsDnsLabelPattern(s);
}

bool IsDnsSubdomain(std::string_view s) { return IsDnsSubdomainImpl(s, false); }

bool IsQualifiedName(std::string_view s) { return IsQualifiedNameImpl(s, false); }

bool IsLabelValue(std::string_view s) {
  return s.empty() || (s.size() <= kLabelValueMaxLength && IsQualifiedNamePart(s));
}

Status ValidateLabels(const json::value* labels, std::string_view field) {
  if (!labels || labels->is_null()) return Status::Ok();
  const json::object* o = ObjectOrNull(labels);
  if (!o) return Bad(std::string(field) + " must be an object");
  for (const auto& kv : *o) {
    if (!IsQualifiedName(kv.key())) {
      return Bad(std::string(field) + " key " + Quote(kv.key()) + " is not a qualified name");
    }
    if (!kv.value().is_string()) return Bad(std::string(field) + " values must be strings");
    if (!IsLabelValue(kv.value().as_string())) {
      return Bad(std::string(field) + " value " + Quote(kv.value().as_string()) + " of " +
                 Quote(kv.key()) + " is not a valid label value");
    }
  }
  return Status::Ok();
}

Status ValidateAnnotations(const json::value* annotations) {
  if (!annotations || annotations->is_null()) return Status::Ok();
  const json::object* o = ObjectOrNull(annotations);
  if (!o) return Bad("metadata.annotations must be an object");
  size_t total = 0;
  for (const auto& kv : *o) {
    if (!IsQualifiedNameImpl(kv.key(), /*fold=*/true)) {
      return Bad("metadata.annotations key " + Quote(kv.key()) + " is not a qualified name");
    }
    if (!kv.value().is_string()) return Bad("metadata.annotations values must be strings");
    total += kv.key().size() + kv.value().as_string().size();
  }
  if (total > kTotalAnnotationSizeLimit) {
    return Bad("metadata.annotations: Too long: must have at most " +
               std::to_string(kTotalAnnotationSizeLimit) + " bytes");
  }
  return Status::Ok();
}

Status ValidatePod(const json::value& pod) {
  if (!pod.is_object()) return Bad("pod must be a JSON object");
  const auto* meta = pod.as_object().if_contains("metadata");
  if (!meta || !meta->is_object()) return Bad("pod has no metadata");
  std::string name = PodName(pod), ns = PodNamespace(pod), uid = PodUid(pod);
  if (!IsDnsSubdomain(name)) {
    return Bad("pod metadata.name " + Quote(name) +
               " is not a valid DNS-1123 subdomain (at most 253 of [a-z0-9-.])");
  }
  if (!ns.empty() && !IsDnsLabel(ns)) {
    return Bad("pod metadata.namespace " + Quote(ns) + " is not a valid DNS-1123 label");
  }
  if (!IsSafeUid(uid))
    return Bad("pod " + ns + "/" + name + " has a missing or malformed metadata.uid");
  IL_RETURN_IF_ERROR(ValidateLabels(meta->as_object().if_contains("labels"), "metadata.labels"));
  IL_RETURN_IF_ERROR(ValidateAnnotations(meta->as_object().if_contains("annotations")));
  const auto* spec = pod.as_object().if_contains("spec");
  if (spec && !spec->is_null() && !spec->is_object()) return Bad("pod spec must be an object");
  IL_RETURN_IF_ERROR(ValidateContainers(pod));
  return ValidateSpecNames(pod);
}

}  // namespace il::api

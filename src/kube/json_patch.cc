#include "kube/json_patch.h"

#include <boost/json.hpp>
#include <vector>

namespace il::kube {
namespace json = boost::json;

void ApplyMergePatch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  auto& t = target.as_object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      t.erase(k);
    } else {
      ApplyMergePatch(t[k], v);
    }
  }
}

namespace {

Result<std::vector<std::string>> ParsePointer(std::string_view p) {
  std::vector<std::string> out;
  if (p.empty()) return out;
  if (p.front() != '/')
    return InvalidArgument("JSON pointer must start with '/': " + std::string(p));
  size_t start = 1;
  while (true) {
    auto slash = p.find('/', start);
    std::string seg(
        p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    std::string unescaped;
    for (size_t i = 0; i < seg.size(); ++i) {
      if (seg[i] == '~' && i + 1 < seg.size()) {
        unescaped.push_back(seg[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        unescaped.push_back(seg[i]);
      }
    }
    out.push_back(std::move(unescaped));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Result<size_t> Index(const json::array& a, const std::string& seg, bool allow_end) {
  if (allow_end && seg == "-") return a.size();
  if (seg.empty() || seg.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("bad array index '" + seg + "'");
  }
  size_t i = std::stoul(seg);
  if (i > a.size() || (!allow_end && i == a.size())) return InvalidArgument("index out of range");
  return i;
}

Status ApplyOp(json::value& target, const json::object& op) {
  const auto* opv = op.if_contains("op");
  const auto* pathv = op.if_contains("path");
  if (!opv || !opv->is_string() || !pathv || !pathv->is_string()) {
    return InvalidArgument("JSON patch operation needs op and path");
  }
  std::string_view name = opv->as_string();
  IL_ASSIGN_OR_RETURN(auto segs, ParsePointer(pathv->as_string()));
  const json::value* value = op.if_contains("value");
  if ((name == "add" || name == "replace" || name == "test") && !value) {
    return InvalidArgument(std::string(name) + " needs a value");
  }
  if (segs.empty()) {
    if (name == "test") return target == *value ? Status::Ok() : FailedPrecondition("test failed");
    if (name == "remove") return InvalidArgument("cannot remove the root");
    target = *value;
    return Status::Ok();
  }
  json::value* parent = &target;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (auto* o = parent->if_object()) {
      parent = o->if_contains(segs[i]);
    } else if (auto* a = parent->if_array()) {
      IL_ASSIGN_OR_RETURN(size_t idx, Index(*a, segs[i], false));
      parent = &(*a)[idx];
    } else {
      parent = nullptr;
    }
    if (!parent) return InvalidArgument("path " + std::string(pathv->as_string()) + " not found");
  }
  const std::string& last = segs.back();
  if (auto* o = parent->if_object()) {
    bool exists = o->contains(last);
    if (name == "add") {
      (*o)[last] = *value;
    } else if (!exists) {
      return InvalidArgument("path " + std::string(pathv->as_string()) + " not found");
    } else if (name == "replace") {
      (*o)[last] = *value;
    } else if (name == "remove") {
      o->erase(last);
    } else if (name == "test") {
      if ((*o)[last] != *value) return FailedPrecondition("test failed");
    } else {
      return InvalidArgument("unsupported op " + std::string(name));
    }
    return Status::Ok();
  }
  if (auto* a = parent->if_array()) {
    IL_ASSIGN_OR_RETURN(size_t idx, Index(*a, last, name == "add"));
    if (name == "add") {
      a->insert(a->begin() + idx, *value);
    } else if (name == "replace") {
      (*a)[idx] = *value;
    } else if (name == "remove") {
      a->erase(a->begin() + idx);
    } else if (name == "test") {
      if ((*a)[idx] != *value) return FailedPrecondition("test failed");
    } else {
      return InvalidArgument("unsupported op " + std::string(name));
    }
    return Status::Ok();
  }
  return InvalidArgument("path " + std::string(pathv->as_string()) + " not found");
}

}  // namespace

Status ApplyJsonPatch(json::value& target, const json::value& ops) {
  if (!ops.is_array()) return InvalidArgument("JSON patch must be an array");
  for (const auto& op : ops.as_array()) {
    if (!op.is_object()) return InvalidArgument("JSON patch operation must be an object");
    IL_RETURN_IF_ERROR(ApplyOp(target, op.as_object()));
  }
  return Status::Ok();
}

}  // namespace il::kube

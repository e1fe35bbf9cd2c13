#include "kube/kube_api.h"

#include <boost/json.hpp>

#include "kube/api_error.h"

namespace il::kube {
namespace json = boost::json;

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "ERROR";
}

namespace {

std::string MetaString(const json::value& list, std::string_view key) {
  const auto* o = list.if_object();
  const auto* meta = o ? o->if_contains("metadata") : nullptr;
  const auto* v = meta && meta->is_object() ? meta->as_object().if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<json::value> ListPages(KubeApi& api, const std::string& path, ListOptions options) {
  IL_ASSIGN_OR_RETURN(json::value first, api.List(path, options));
  if (!first.is_object()) return Internal("LIST " + path + ": reply is not an object");
  auto& out = first.as_object();
  if (!out.contains("items") || out["items"].is_null()) out["items"] = json::array();
  if (!out["items"].is_array()) return Internal("LIST " + path + ": items is not an array");
  std::string cont = MetaString(first, "continue");
  // Continue tokens pin the snapshot, so later pages must not name a resourceVersion.
  options.resource_version.clear();
  while (!cont.empty()) {
    options.continue_token = cont;
    IL_ASSIGN_OR_RETURN(json::value page, api.List(path, options));
    const auto* po = page.if_object();
    const auto* items = po ? po->if_contains("items") : nullptr;
    if (items && items->is_array()) {
      auto& all = out["items"].as_array();
      for (const auto& it : items->as_array()) all.push_back(it);
    }
    cont = MetaString(page, "continue");
  }
  if (auto* meta = out.if_contains("metadata"); meta && meta->is_object()) {
    meta->as_object().erase("continue");
    meta->as_object().erase("remainingItemCount");
  }
  return first;
}

}  // namespace

Result<json::value> ListAll(KubeApi& api, const std::string& path, const ListOptions& options) {
  auto r = ListPages(api, path, options);
  if (r.ok() || !IsGone(r.status()) || options.limit <= 0) return r;
  // The continue token expired between pages: take one consistent unpaged list instead.
  ListOptions unpaged = options;
  unpaged.limit = 0;
  unpaged.continue_token.clear();
  return ListPages(api, path, unpaged);
}

}  // namespace il::kube

#include "api/pod_data.h"

#include <set>

#include "api/pod.h"

namespace il::api {
namespace json = boost::json;

namespace {

const json::object* FindByName(const json::array& objects, const std::string& name) {
  for (const auto& o : objects) {
    if (api::GetString(o, {"metadata", "name"}) == name) return &o.as_object();
  }
  return nullptr;
}

api::RetrievedContainer ForContainer(const json::value& container, const json::array& volumes,
                                     const api::PodCreateRequests& req) {
  api::RetrievedContainer rc;
  rc.name = api::GetString(container, {"name"});
  std::set<std::string> mounted;
  if (const auto* mounts = api::Find(container, {"volumeMounts"}); mounts && mounts->is_array()) {
    for (const auto& m : mounts->as_array()) mounted.insert(api::GetString(m, {"name"}));
  }
  for (const auto& vol : volumes) {
    std::string vname = api::GetString(vol, {"name"});
    if (!mounted.count(vname)) continue;
    if (api::Find(vol, {"configMap"})) {
      if (auto* cm = FindByName(req.configmaps, api::GetString(vol, {"configMap", "name"}))) {
        rc.config_maps.push_back(*cm);
      }
    } else if (api::Find(vol, {"secret"})) {
      if (auto* s = FindByName(req.secrets, api::GetString(vol, {"secret", "secretName"}))) {
        rc.secrets.push_back(*s);
      }
    } else if (api::Find(vol, {"projected"}) || api::Find(vol, {"downwardAPI"})) {
      if (auto* pm = FindByName(req.projected_volumes_maps, vname)) {
        rc.projected_volume_maps.push_back(*pm);
      }
    } else if (api::Find(vol, {"emptyDir"})) {
      rc.empty_dirs.push_back(json::string(vname));
    }
  }
  return rc;
}

}  // namespace

api::RetrievedPodData BuildPodData(const api::PodCreateRequests& req) {
  api::RetrievedPodData d;
  d.pod = req.pod;
  static const json::array kNone;
  const auto* vols = api::Find(req.pod, {"spec", "volumes"});
  const json::array& volumes = vols && vols->is_array() ? vols->as_array() : kNone;
  for (const auto* list : {&api::InitContainers(req.pod), &api::Containers(req.pod)}) {
    for (const auto& c : *list) d.containers.push_back(ForContainer(c, volumes, req));
  }
  return d;
}

}  // namespace il::api

namespace il::api {

PodCreateRequests FlattenPodData(const RetrievedPodData& d) {
  PodCreateRequests r;
  r.pod = d.pod;
  std::set<std::string> seen_cm, seen_secret, seen_projected;
  auto add = [](const json::array& from, std::set<std::string>& seen, json::array& to) {
    for (const auto& o : from) {
      if (seen.insert(api::GetString(o, {"metadata", "name"})).second) to.push_back(o);
    }
  };
  for (const auto& c : d.containers) {
    add(c.config_maps, seen_cm, r.configmaps);
    add(c.secrets, seen_secret, r.secrets);
    add(c.projected_volume_maps, seen_projected, r.projected_volumes_maps);
  }
  return r;
}

}  // namespace il::api

// Pod builders shared by the mock sidecar's unit tests.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

namespace il::mock::testing {

struct PodSpec {
  std::string uid = "uid-1";
  std::string name = "p1";
  std::map<std::string, std::string> annotations;  // keys without the mock prefix
  std::vector<std::string> containers = {"main"};
  std::vector<std::string> init_containers;
  std::map<std::string, boost::json::array> commands;  // container -> command
};

inline boost::json::value MakePod(const PodSpec& s) {
  namespace json = boost::json;
  json::object ann;
  for (const auto& [k, v] : s.annotations) ann["mock.interlink.io/" + k] = v;
  auto list = [&s](const std::vector<std::string>& names) {
    json::array a;
    for (const auto& n : names) {
      json::object c{{"name", n}, {"image", "busybox:" + n}};
      if (auto it = s.commands.find(n); it != s.commands.end()) c["command"] = it->second;
      a.push_back(std::move(c));
    }
    return a;
  };
  json::object spec{{"containers", list(s.containers)}};
  if (!s.init_containers.empty()) spec["initContainers"] = list(s.init_containers);
  return json::object{
      {"metadata",
       {{"name", s.name}, {"namespace", "default"}, {"uid", s.uid}, {"annotations", ann}}},
      {"spec", spec}};
}

}  // namespace il::mock::testing

#include "api/pod_data.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::api {
namespace {
namespace json = boost::json;

TEST(PodData, GivesEachContainerTheDataItMountsInitContainersFirst) {
  api::PodCreateRequests req;
  req.pod = *api::ParseJson(R"({
    "metadata": {"name": "p", "namespace": "default", "uid": "u"},
    "spec": {
      "initContainers": [{"name": "init", "image": "x", "volumeMounts": [{"name": "sec", "mountPath": "/s"}]}],
      "containers": [{"name": "main", "image": "x", "volumeMounts": [
          {"name": "cfg", "mountPath": "/c"}, {"name": "proj", "mountPath": "/p"}, {"name": "tmp", "mountPath": "/t"}]}],
      "volumes": [{"name": "cfg", "configMap": {"name": "my-cm"}},
                  {"name": "sec", "secret": {"secretName": "my-secret"}},
                  {"name": "proj", "projected": {"sources": []}},
                  {"name": "tmp", "emptyDir": {}}]}})");
  req.configmaps.push_back(json::object{{"metadata", {{"name", "my-cm"}}}, {"data", {{"k", "v"}}}});
  req.configmaps.push_back(json::object{{"metadata", {{"name", "other"}}}});
  req.secrets.push_back(
      json::object{{"metadata", {{"name", "my-secret"}}}, {"data", {{"p", "cA=="}}}});
  req.projected_volumes_maps.push_back(
      json::object{{"metadata", {{"name", "proj"}}}, {"data", {{"token", "t"}}}});
  auto d = BuildPodData(req);
  ASSERT_EQ(d.containers.size(), 2u);
  EXPECT_EQ(d.containers[0].name, "init");
  EXPECT_EQ(d.containers[0].secrets.size(), 1u);
  EXPECT_TRUE(d.containers[0].config_maps.empty());
  EXPECT_EQ(d.containers[1].name, "main");
  ASSERT_EQ(d.containers[1].config_maps.size(), 1u);
  EXPECT_EQ(api::GetString(d.containers[1].config_maps[0], {"metadata", "name"}), "my-cm");
  EXPECT_EQ(d.containers[1].projected_volume_maps.size(), 1u);
  EXPECT_EQ(d.containers[1].empty_dirs.size(), 1u);
  EXPECT_EQ(d.pod, req.pod);
}

}  // namespace
}  // namespace il::api

namespace il::api {
namespace {

TEST(PodData, FlattenThenBuildGivesBackTheSameContainers) {
  api::PodCreateRequests req;
  req.pod = *api::ParseJson(R"({
    "metadata": {"name": "p", "namespace": "default", "uid": "u"},
    "spec": {
      "initContainers": [{"name": "init", "image": "x", "volumeMounts": [{"name": "cfg", "mountPath": "/c"}]}],
      "containers": [{"name": "main", "image": "x", "volumeMounts": [
          {"name": "cfg", "mountPath": "/c"}, {"name": "sec", "mountPath": "/s"}]}],
      "volumes": [{"name": "cfg", "configMap": {"name": "my-cm"}},
                  {"name": "sec", "secret": {"secretName": "my-secret"}}]}})");
  req.configmaps.push_back(
      *api::ParseJson(R"({"metadata": {"name": "my-cm"}, "data": {"k": "v"}})"));
  req.secrets.push_back(
      *api::ParseJson(R"({"metadata": {"name": "my-secret"}, "data": {"k": "dg=="}})"));
  auto d = BuildPodData(req);
  auto flat = FlattenPodData(d);
  EXPECT_EQ(flat.configmaps.size(), 1u);  // mounted twice, sent once
  EXPECT_EQ(flat.secrets.size(), 1u);
  auto again = BuildPodData(flat);
  ASSERT_EQ(again.containers.size(), d.containers.size());
  for (size_t i = 0; i < d.containers.size(); ++i) {
    EXPECT_EQ(again.containers[i].config_maps, d.containers[i].config_maps);
    EXPECT_EQ(again.containers[i].secrets, d.containers[i].secrets);
  }
}

}  // namespace
}  // namespace il::api

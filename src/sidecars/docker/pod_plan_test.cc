#include "sidecars/docker/pod_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "api/pod.h"

namespace il::docker {
namespace {
namespace json = boost::json;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DockerSettings Settings() {
  DockerSettings s;
  s.data_dir = "/data/docker-sd";
  return s;
}

Result<PodPlan> Plan(const json::value& data_json, const DockerSettings& s = Settings()) {
  IL_ASSIGN_OR_RETURN(auto data, api::ParseRetrievedPodData(data_json));
  IL_ASSIGN_OR_RETURN(auto src, PodSources::Build(data));
  IL_ASSIGN_OR_RETURN(auto vols, PlanVolumes(src, s.PodDir(api::PodUid(data.pod)), {}));
  return BuildPodPlan(src, vols, s, "inst1");
}

json::value Pod(const std::string& spec, const std::string& meta_extra = "") {
  return json::parse(R"({"pod":{"metadata":{"name":"p","namespace":"ns","uid":"u1")" + meta_extra +
                     R"(},"spec":)" + spec + "}}");
}

// body[path...] or null.
json::value At(const json::object& body, std::initializer_list<std::string_view> path) {
  json::value whole(body);
  const json::value* v = api::Find(whole, path);
  return v ? *v : json::value();
}
json::value Host(const ContainerPlan& c, std::string_view key) {
  return At(c.create_body, {"HostConfig", key});
}

// The create bodies of a full-featured pod, compared with a reviewed golden file. Regenerate
// with IL_UPDATE_GOLDEN=1, pretty-print with `python3 -m json.tool`, and review the diff.
TEST(BuildPodPlan, MatchesTheGoldenCreateBodies) {
  std::string dir = std::string(IL_SOURCE_DIR) + "/src/sidecars/docker/testdata/";
  auto plan = Plan(json::parse(Read(dir + "full_pod.json")));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string got = json::serialize(ToJson(*plan));
  if (std::getenv("IL_UPDATE_GOLDEN")) {
    std::ofstream(dir + "full_pod.golden.json") << got << "\n";
  }
  auto want = json::parse(Read(dir + "full_pod.golden.json"));
  EXPECT_EQ(json::parse(got), want) << got;
}

TEST(BuildPodPlan, HostileValuesAreSingleJsonStrings) {
  std::string dir = std::string(IL_SOURCE_DIR) + "/src/sidecars/docker/testdata/";
  auto plan = Plan(json::parse(Read(dir + "full_pod.json")));
  ASSERT_TRUE(plan.ok());
  const auto& app = *plan->WithRole(Role::kApp)[0];
  // No environment value in the stored body: MODE, TRICKY (a line break) and POD go into
  // the 0600 env file, each as exactly one "NAME=value" string.
  EXPECT_EQ(json::serialize(ToJson(*plan)).find("prod"), std::string::npos);
  EXPECT_EQ(app.create_body.if_contains("Env"), nullptr);
  EXPECT_EQ(app.env_file, "/data/docker-sd/pods/6f1c-uid/env/app.json");
  ASSERT_EQ(plan->env_files.size(), 1u);
  EXPECT_EQ(plan->env_files[0].path, app.env_file);
  EXPECT_EQ(plan->env_files[0].mode, 0600);
  EXPECT_EQ(json::parse(plan->env_files[0].content),
            (json::array{"MODE=prod", "TRICKY=a'b\"c;$d`e`\nnext line", "POD=web"}));
  // The subPath is checked again before every start, and created as a directory if missing.
  ASSERT_EQ(app.bind_checks.size(), 1u);
  EXPECT_EQ(app.bind_checks[0], (BindCheck{"/data/docker-sd/pods/6f1c-uid/volumes/work", "out/app",
                                           true, "/data/docker-sd/pods/6f1c-uid/pins/app/1"}));
  EXPECT_EQ(At(app.create_body, {"WorkingDir"}), "/srv/my dir");
  EXPECT_EQ(At(app.create_body, {"Image"}), "registry.local:5000/app:v1");
  // command replaces the entrypoint, args are the command's arguments: one string each.
  EXPECT_EQ(At(app.create_body, {"Entrypoint"}), (json::array{"/bin/app", "--flag=$(MODE)"}));
  EXPECT_EQ(At(app.create_body, {"Cmd"}), (json::array{"arg; rm -rf /", "$HOME", "multi\nline",
                                                       "'single'", "\"double\"", "$(MISSING)"}));
}

TEST(BuildPodPlan, SingleContainerPodNeedsNoSandbox) {
  auto plan = Plan(Pod(R"({"containers":[{"name":"c","image":"img:1","args":["x"]}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->containers.size(), 1u);
  EXPECT_EQ(plan->Sandbox(), nullptr);
  EXPECT_EQ(plan->NamespaceHolder(), "il-ns_p_c_u1");
  const auto& c = plan->containers[0];
  EXPECT_EQ(Host(c, "NetworkMode"), "none");
  EXPECT_EQ(At(c.create_body, {"Hostname"}), "p");
  EXPECT_EQ(c.pull_policy, "IfNotPresent");
  // The API server's default restartPolicy.
  EXPECT_EQ(At(c.create_body, {"HostConfig", "RestartPolicy", "Name"}), "always");
  EXPECT_TRUE(At(c.create_body, {"Entrypoint"}).is_null());  // args only: the image's stays
  EXPECT_EQ(At(c.create_body, {"Cmd"}), json::array{"x"});
}

TEST(BuildPodPlan, MultiContainerPodsShareTheSandboxNamespaces) {
  DockerSettings s = Settings();
  s.network = "bridge";
  auto plan = Plan(
      Pod(R"({"shareProcessNamespace":true,"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]})"),
      s);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_NE(plan->Sandbox(), nullptr);
  EXPECT_EQ(plan->Sandbox()->docker_name, "il-ns_p_POD_u1");
  EXPECT_EQ(Host(*plan->Sandbox(), "NetworkMode"), "bridge");
  EXPECT_EQ(Host(*plan->Sandbox(), "IpcMode"), "shareable");
  EXPECT_EQ(plan->Sandbox()->pull_policy, "Never");
  for (const auto* c : plan->WithRole(Role::kApp)) {
    EXPECT_EQ(Host(*c, "NetworkMode"), "container:il-ns_p_POD_u1");
    EXPECT_EQ(Host(*c, "IpcMode"), "container:il-ns_p_POD_u1");
    EXPECT_EQ(Host(*c, "PidMode"), "container:il-ns_p_POD_u1");
    EXPECT_TRUE(At(c->create_body, {"Hostname"}).is_null());
  }
}

TEST(BuildPodPlan, HostNamespacesNeedTheAdminSetting) {
  for (const char* field : {"hostNetwork", "hostPID", "hostIPC"}) {
    std::string spec =
        std::string(R"({")") + field + R"(":true,"containers":[{"name":"c","image":"i"}]})";
    auto refused = Plan(Pod(spec));
    ASSERT_FALSE(refused.ok()) << field;
    EXPECT_NE(refused.status().message().find("DockerAllowHostNamespaces"), std::string::npos);
    DockerSettings s = Settings();
    s.allow_host_namespaces = true;
    auto allowed = Plan(Pod(spec), s);
    ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  }
  DockerSettings s = Settings();
  s.allow_host_namespaces = true;
  auto plan =
      Plan(Pod(R"({"hostPID":true,"hostIPC":true,"containers":[{"name":"c","image":"i"}]})"), s);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Host(plan->containers[0], "PidMode"), "host");
  EXPECT_EQ(Host(plan->containers[0], "IpcMode"), "host");
}

TEST(BuildPodPlan, EveryContainerGetsThePidsLimitAndLogRotation) {
  auto plan = Plan(Pod(R"({"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]})"));
  ASSERT_TRUE(plan.ok());
  for (const auto& c : plan->containers) {
    EXPECT_EQ(Host(c, "PidsLimit"), 4096) << c.name;
    EXPECT_EQ(
        Host(c, "LogConfig"),
        (json::object{{"Type", "json-file"}, {"Config", {{"max-size", "10m"}, {"max-file", "5"}}}}))
        << c.name;
  }
  DockerSettings s = Settings();
  s.pids_limit = 0;
  s.log_max_size.clear();
  plan = Plan(Pod(R"({"containers":[{"name":"a","image":"i"}]})"), s);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(Host(plan->containers[0], "PidsLimit").is_null());
  EXPECT_TRUE(Host(plan->containers[0], "LogConfig").is_null());
}

// No docker CLI reads its environment any more: any name is passed, any text value too.
TEST(BuildPodPlan, EnvValuesTravelWholeAndOnlyNulOrNonUtf8IsRefused) {
  auto plan = Plan(Pod(
      R"({"containers":[{"name":"c","image":"i","env":[{"name":"DOCKER_HOST","value":"a\nb"}]}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(json::parse(plan->env_files[0].content), json::array{"DOCKER_HOST=a\nb"});
  json::value bad = Pod(R"({"containers":[{"name":"c","image":"i","env":[{"name":"X"}]}]})");
  bad.at("pod").at("spec").at("containers").at(0).at("env").at(0).as_object()["value"] =
      std::string("a\xff");
  auto refused = Plan(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not UTF-8"), std::string::npos);
}

TEST(BuildPodPlan, NamesAreUniquePerPodAndUid) {
  EXPECT_NE(DockerName("il-", "a", "b", "c", "u1"), DockerName("il-", "a", "b", "c", "u2"));
  EXPECT_NE(DockerName("il-", "a-b", "c", "d", "u"), DockerName("il-", "a", "b-c", "d", "u"));
  std::string long_pod(200, 'x');
  EXPECT_LT(DockerName("il-", "ns", long_pod, "c", "u").size(), 120u);
  EXPECT_NE(DockerName("il-", "ns", long_pod, "c", "u"),
            DockerName("il-", "ns", long_pod + "y", "c", "u"));
}

TEST(BuildPodPlan, LongNamesAreBoundedKeepTheUidAndDoNotCollide) {
  const std::string uid = "0b7e6a4e-3f7c-4a59-9a0a-2f6d7c0e9b11";
  const std::string ns(63, 'n'), c(63, 'c');
  std::set<std::string> seen;
  for (size_t n : {63, 64, 200, 253}) {
    for (char last : {'1', '2'}) {
      std::string pod(n - 1, 'p');
      pod += last;  // two names that differ only at the end
      std::string d = DockerName(std::string(64, 'P'), ns, pod, c, uid);
      EXPECT_LE(d.size(), kMaxDockerNameLength) << n;
      EXPECT_EQ(d.substr(d.size() - uid.size() - 1), "_" + uid);
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(d[0])));
      for (char ch : d)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' ||
                    ch == '-')
            << d;
      EXPECT_TRUE(seen.insert(d).second) << d;
      EXPECT_TRUE(seen.insert(DockerName("il-", "default", pod, "POD", uid)).second);
    }
  }
  // Short names are what they always were, so running pods keep their containers' names.
  EXPECT_EQ(DockerName("il-", "ns", "p", "c", "u1"), "il-ns_p_c_u1");
}

TEST(BuildPodPlan, MaximalNamesGetBoundedContainerNamesAndFullLabels) {
  std::string name(252, 'x');
  name += 'y';
  json::value data =
      Pod(R"({"containers":[{"name":")" + std::string(63, 'a') + R"(","image":"i"},{"name":")" +
          std::string(63, 'b') + R"(","image":"i"}]})");
  data.at("pod").at("metadata").as_object()["name"] = name;
  auto plan = Plan(data);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->containers.size(), 3u);
  for (const auto& cp : plan->containers) {
    EXPECT_LE(cp.docker_name.size(), kMaxDockerNameLength);
    EXPECT_EQ(At(cp.create_body, {"Labels", "io.kubernetes.pod.name"}), json::value(name));
  }
  EXPECT_NE(plan->containers[1].docker_name, plan->containers[2].docker_name);
}

TEST(BuildPodPlan, PullPolicyDefaultsLikeTheApiServer) {
  EXPECT_EQ(DefaultPullPolicy("busybox"), "Always");
  EXPECT_EQ(DefaultPullPolicy("busybox:latest"), "Always");
  EXPECT_EQ(DefaultPullPolicy("registry:5000/busybox"), "Always");
  EXPECT_EQ(DefaultPullPolicy("busybox:1.36"), "IfNotPresent");
  EXPECT_EQ(DefaultPullPolicy("busybox@sha256:abc"), "IfNotPresent");
}

TEST(BuildPodPlan, RejectsWhatDockerCannotOrMustNotDo) {
  for (
      const char* spec :
      {R"({"containers":[{"name":"c","image":"--privileged"}]})",
       R"({"containers":[{"name":"c","image":"a b"}]})",
       R"({"containers":[{"name":"c","image":""}]})",
       R"({"containers":[{"name":"c","image":"i","imagePullPolicy":"Sometimes"}]})",
       R"({"containers":[{"name":"c","image":"i","securityContext":{"privileged":true}}]})",
       R"({"containers":[{"name":"c","image":"i","securityContext":{"capabilities":{"add":["SYS_ADMIN"]}}}]})",
       R"({"containers":[{"name":"c","image":"i","resources":{"limits":{"memory":"lots"}}}]})",
       R"({"containers":[{"name":"c","image":"i","args":["a\u0000b"]}]})",
       R"({"restartPolicy":"Sometimes","containers":[{"name":"c","image":"i"}]})",
       R"({"containers":[]})"}) {
    EXPECT_FALSE(Plan(Pod(spec)).ok()) << spec;
  }
}

TEST(PodPlanJson, RoundTrips) {
  auto plan = Plan(Pod(
      R"({"initContainers":[{"name":"i","image":"x"}],"containers":[{"name":"c","image":"img",
          "env":[{"name":"A","value":"x\ny"}],
          "volumeMounts":[{"name":"v","mountPath":"/v","subPath":"s"}]}],
          "volumes":[{"name":"v","emptyDir":{}}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto back = PodPlanFromJson(ToJson(*plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ToJson(*back), ToJson(*plan));
  EXPECT_EQ(back->WithRole(Role::kInit).size(), 1u);
  EXPECT_EQ(back->WithRole(Role::kApp)[0]->bind_checks.size(), 1u);
  EXPECT_FALSE(back->WithRole(Role::kApp)[0]->env_file.empty());
  EXPECT_FALSE(PodPlanFromJson(json::parse(R"({"uid":"x"})")).ok());
}

TEST(BuildPodPlan, TerminationMessageFileAndSupervisionSurviveTheRoundTrip) {
  auto plan = Plan(Pod(R"({"terminationGracePeriodSeconds":7,"containers":[
      {"name":"c","image":"img","terminationMessagePath":"/tmp/why",
       "terminationMessagePolicy":"FallbackToLogsOnError",
       "ports":[{"name":"web","containerPort":80}],
       "readinessProbe":{"httpGet":{"port":"web"}},
       "lifecycle":{"preStop":{"exec":{"command":["true"]}}}},
      {"name":"plain","image":"img","ports":[{"containerPort":1}]}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const ContainerPlan& c = *plan->WithRole(Role::kApp)[0];
  EXPECT_EQ(c.termination_file, "/data/docker-sd/pods/u1/termination/c");
  EXPECT_TRUE(c.fallback_to_logs);
  EXPECT_EQ(Host(c, "Mounts").at(0),
            (json::object{{"Type", "bind"},
                          {"Source", "/data/docker-sd/pods/u1/termination/c"},
                          {"Target", "/tmp/why"},
                          {"ReadOnly", false}}));
  ASSERT_EQ(plan->termination_files.size(), 2u);
  EXPECT_EQ(plan->termination_files[0].mode, 0666);
  EXPECT_TRUE(c.supervision.as_object().contains("readinessProbe"));
  EXPECT_TRUE(plan->WithRole(Role::kApp)[1]->supervision.is_null());  // ports alone: nothing
  auto back = PodPlanFromJson(ToJson(*plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->grace_seconds, 7);
  EXPECT_EQ(back->containers[1].supervision, c.supervision);
  EXPECT_EQ(back->containers[1].termination_file, c.termination_file);
  EXPECT_TRUE(back->containers[1].fallback_to_logs);
  auto bad = Plan(Pod(R"({"containers":[{"name":"c","image":"img",
      "terminationMessagePolicy":"Sometimes"}]})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace il::docker

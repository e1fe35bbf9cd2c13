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

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The argv of a full-featured pod, compared with a reviewed golden file. Regenerate with
// IL_UPDATE_GOLDEN=1, pretty-print with `python3 -m json.tool`, and review the diff.
TEST(BuildPodPlan, MatchesTheGoldenArgv) {
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

TEST(BuildPodPlan, HostileValuesAreSingleLiteralArguments) {
  std::string dir = std::string(IL_SOURCE_DIR) + "/src/sidecars/docker/testdata/";
  auto plan = Plan(json::parse(Read(dir + "full_pod.json")));
  ASSERT_TRUE(plan.ok());
  const auto& app = *plan->WithRole(Role::kApp)[0];
  const auto& a = app.run_args;
  // No value in argv: MODE and POD go through the 0600 env file, TRICKY (a line break, which
  // that file cannot carry) through the docker CLI's environment, named only.
  for (const auto& arg : a) EXPECT_EQ(arg.find("prod"), std::string::npos) << arg;
  EXPECT_TRUE(Has(a, "--env=TRICKY"));
  EXPECT_TRUE(Has(a, "--env-file=/data/docker-sd/pods/6f1c-uid/env/app.env"));
  EXPECT_EQ(app.env_json_file, "/data/docker-sd/pods/6f1c-uid/env/app.env.json");
  ASSERT_EQ(plan->env_files.size(), 2u);
  EXPECT_EQ(plan->env_files[0].path, "/data/docker-sd/pods/6f1c-uid/env/app.env");
  EXPECT_EQ(plan->env_files[0].content, "MODE=prod\nPOD=web\n");
  EXPECT_EQ(plan->env_files[0].mode, 0600);
  EXPECT_EQ(json::parse(plan->env_files[1].content),
            json::parse(R"({"TRICKY":"a'b\"c;$d`e`\nnext line"})"));
  EXPECT_EQ(plan->env_files[1].mode, 0600);
  // The subPath is checked again before every start, and created as a directory if missing.
  ASSERT_EQ(app.bind_checks.size(), 1u);
  EXPECT_EQ(app.bind_checks[0], (BindCheck{"/data/docker-sd/pods/6f1c-uid/volumes/work", "out/app",
                                           true, "/data/docker-sd/pods/6f1c-uid/pins/app/1"}));
  EXPECT_TRUE(Has(a, "--workdir=/srv/my dir"));
  EXPECT_TRUE(Has(a, "--entrypoint=/bin/app"));
  auto sep = std::find(a.begin(), a.end(), "--");
  ASSERT_NE(sep, a.end());
  std::vector<std::string> tail(sep + 1, a.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"registry.local:5000/app:v1", "--flag=$(MODE)",
                                            "arg; rm -rf /", "$HOME", "multi\nline", "'single'",
                                            "\"double\"", "$(MISSING)"}));
}

TEST(BuildPodPlan, SingleContainerPodNeedsNoSandbox) {
  auto plan = Plan(Pod(R"({"containers":[{"name":"c","image":"img:1","args":["x"]}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->containers.size(), 1u);
  EXPECT_EQ(plan->Sandbox(), nullptr);
  EXPECT_EQ(plan->NamespaceHolder(), "il-ns_p_c_u1");
  const auto& a = plan->containers[0].run_args;
  EXPECT_TRUE(Has(a, "--network=none"));
  EXPECT_TRUE(Has(a, "--hostname=p"));
  EXPECT_TRUE(Has(a, "--pull=missing"));
  EXPECT_TRUE(Has(a, "--restart=always"));  // the API server's default restartPolicy
  EXPECT_FALSE(Has(a, "--entrypoint=x"));   // args only: the image's entrypoint stays
  EXPECT_EQ(a.back(), "x");
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
  EXPECT_TRUE(Has(plan->Sandbox()->run_args, "--network=bridge"));
  EXPECT_TRUE(Has(plan->Sandbox()->run_args, "--ipc=shareable"));
  for (const auto* c : plan->WithRole(Role::kApp)) {
    EXPECT_TRUE(Has(c->run_args, "--network=container:il-ns_p_POD_u1"));
    EXPECT_TRUE(Has(c->run_args, "--ipc=container:il-ns_p_POD_u1"));
    EXPECT_TRUE(Has(c->run_args, "--pid=container:il-ns_p_POD_u1"));
    EXPECT_FALSE(Has(c->run_args, "--hostname=p"));
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
  EXPECT_TRUE(Has(plan->containers[0].run_args, "--pid=host"));
  EXPECT_TRUE(Has(plan->containers[0].run_args, "--ipc=host"));
}

TEST(BuildPodPlan, EveryContainerGetsThePidsLimitAndLogRotation) {
  auto plan = Plan(Pod(R"({"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]})"));
  ASSERT_TRUE(plan.ok());
  for (const auto& c : plan->containers) {
    EXPECT_TRUE(Has(c.run_args, "--pids-limit=4096")) << c.name;
    EXPECT_TRUE(Has(c.run_args, "--log-opt=max-size=10m")) << c.name;
    EXPECT_TRUE(Has(c.run_args, "--log-opt=max-file=5")) << c.name;
  }
  DockerSettings s = Settings();
  s.pids_limit = 0;
  s.log_max_size.clear();
  plan = Plan(Pod(R"({"containers":[{"name":"a","image":"i"}]})"), s);
  ASSERT_TRUE(plan.ok());
  for (const auto& arg : plan->containers[0].run_args) {
    EXPECT_EQ(arg.rfind("--pids-limit", 0), std::string::npos);
    EXPECT_EQ(arg.rfind("--log-", 0), std::string::npos);
  }
}

TEST(BuildPodPlan, EnvValuesTheCliWouldReadAreRefusedNotPassed) {
  auto plan = Plan(Pod(
      R"({"containers":[{"name":"c","image":"i","env":[{"name":"DOCKER_HOST","value":"a\nb"}]}]})"));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("DOCKER_HOST"), std::string::npos);
  auto fine = Plan(Pod(
      R"({"containers":[{"name":"c","image":"i","env":[{"name":"DOCKER_HOST","value":"ab"}]}]})"));
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->env_files[0].content, "DOCKER_HOST=ab\n");
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
    EXPECT_NE(
        std::find(cp.run_args.begin(), cp.run_args.end(), "--label=io.kubernetes.pod.name=" + name),
        cp.run_args.end());
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
  EXPECT_FALSE(back->WithRole(Role::kApp)[0]->env_json_file.empty());
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
  EXPECT_TRUE(Has(c.run_args,
                  "--mount=type=bind,\"source=/data/docker-sd/pods/u1/termination/c\","
                  "\"target=/tmp/why\""));
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

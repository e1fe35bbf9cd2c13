#include "sidecars/slurm/slurm_backend.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/pod.h"
#include "testing/fake_command_runner.h"

namespace il::slurm {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// A fake Slurm: sbatch hands out ids, squeue reports `queue`, sacct says accounting is
// disabled unless `sacct_out` is set.
struct FakeSlurm {
  std::shared_ptr<FakeCommandRunner> runner = std::make_shared<FakeCommandRunner>();
  std::mutex mu;
  int next_id = 100;
  std::map<std::string, std::string> queue;  // id -> squeue line
  std::string sacct_out;
  std::string sbatch_err;
  int sbatch_exit = 0;
  std::string squeue_by_name;
  bool squeue_fails = false;

  FakeSlurm() {
    runner->SetResponder([this](const std::vector<std::string>& full,
                                const CommandOptions&) -> Result<CommandResult> {
      std::lock_guard l(mu);
      // "asuser <user> cmd...": the RunAsCommand of the multi-tenancy tests.
      std::vector<std::string> argv(full.begin() + (full[0] == "asuser" ? 2 : 0), full.end());
      CommandResult r;
      r.exit_code = 0;
      const std::string& cmd = argv[0];
      if (cmd == "sbatch") {
        r.exit_code = sbatch_exit;
        r.err = sbatch_err;
        if (sbatch_exit == 0) r.out = std::to_string(next_id++) + "\n";
      } else if (cmd == "squeue" && squeue_fails) {
        r.exit_code = 1;
        r.err = "squeue: error: Unable to contact slurm controller\n";
      } else if (cmd == "squeue") {
        bool by_name = false;
        for (const auto& a : argv) by_name = by_name || a.rfind("--name=", 0) == 0;
        if (by_name) {
          r.out = squeue_by_name;
        } else {
          for (const auto& [id, line] : queue) r.out += line + "\n";
        }
      } else if (cmd == "sacct") {
        if (sacct_out.empty()) {
          r.exit_code = 1;
          r.out = "Slurm accounting storage is disabled\n";
        } else {
          r.out = sacct_out;
        }
      } else if (cmd == "sinfo") {
        r.out = "n1|8|16000|gpu:2|idle\nn2|8|16000|(null)|mixed\n";
      }
      return r;
    });
  }
  size_t Count(const std::string& cmd) {
    size_t n = 0;
    for (const auto& c : runner->calls()) n += c[0] == cmd;
    return n;
  }
};

class SlurmBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("slurm-backend-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    cfg_.sbatch = {"sbatch"};
    cfg_.scancel = {"scancel"};
    cfg_.squeue = {"squeue"};
    cfg_.sacct = {"sacct"};
    cfg_.sinfo = {"sinfo"};
    cfg_.data_root = root_.string();
    cfg_.state_file = (root_ / "state.db").string();
    cfg_.runtime = Runtime::kNone;
    cfg_.status_cache_seconds = 0;
    Open();
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(root_);
  }
  void Open() {
    backend_.reset();
    fs::create_directories(root_);
    auto store = JobStore::Open(cfg_.state_file);
    ASSERT_TRUE(store.ok());
    SlurmBackend::Options o;
    o.log_poll = std::chrono::milliseconds(10);
    o.background_watch_pass = false;  // the watch test drives ChangePass itself
    auto b = SlurmBackend::Open(cfg_, slurm_.runner, std::move(*store), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
  }
  static json::value PodJson(const std::string& uid, const std::string& extra_spec = "") {
    return *api::ParseJson(R"({"metadata":{"name":"p-)" + uid +
                           R"(","namespace":"default","uid":")" + uid + R"("},"spec":{)" +
                           extra_spec +
                           R"("containers":[{"name":"a","image":"x","command":["true"]}]}})");
  }
  Result<api::CreateResult> Create(const std::string& uid, const std::string& extra_spec = "") {
    api::RetrievedPodData d;
    d.pod = PodJson(uid, extra_spec);
    return backend_->Create({}, d);
  }
  std::string Dir(const std::string& uid) { return (root_ / ("default-" + uid)).string(); }
  std::vector<api::PodStatus> Status(const std::vector<std::string>& uids) {
    std::vector<json::value> pods;
    for (const auto& u : uids) pods.push_back(PodJson(u));
    auto r = backend_->GetStatus({}, pods);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<api::PodStatus>{};
  }
  static std::string State(const api::PodStatus& s) {
    return std::string(s.containers.at(0).at("state").as_object().begin()->key());
  }

  fs::path root_;
  SlurmConfig cfg_;
  FakeSlurm slurm_;
  std::unique_ptr<SlurmBackend> backend_;
};

TEST_F(SlurmBackendTest, CreateWritesTheScriptAndSubmitsOnce) {
  auto r = Create("u1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pod_jid, "100");
  EXPECT_TRUE(fs::exists(Dir("u1") + "/job.slurm"));
  auto calls = slurm_.runner->calls();
  auto sb =
      std::find_if(calls.begin(), calls.end(), [](const auto& c) { return c[0] == "sbatch"; });
  ASSERT_NE(sb, calls.end());
  EXPECT_EQ(*sb, (std::vector<std::string>{"sbatch", "--parsable", Dir("u1") + "/job.slurm"}));
  auto again = Create("u1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pod_jid, "100");
  EXPECT_EQ(slurm_.Count("sbatch"), 1u);
}

TEST_F(SlurmBackendTest, ConcurrentCreatesOfOnePodSubmitOnce) {
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) ts.emplace_back([&] { ok += Create("same").ok(); });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(slurm_.Count("sbatch"), 1u);
}

TEST_F(SlurmBackendTest, RejectedJobReturnsSlurmsMessageAndLeavesNothing) {
  slurm_.sbatch_exit = 1;
  slurm_.sbatch_err =
      "sbatch: error: Batch job submission failed: Invalid partition name specified\n";
  auto r = Create("bad");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Invalid partition name specified"), std::string::npos);
  EXPECT_FALSE(fs::exists(Dir("bad")));
  EXPECT_TRUE(Status({"bad"}).empty());
}

TEST_F(SlurmBackendTest, SbatchWarningsAreNotFailures) {
  slurm_.sbatch_err = "sbatch: warning: can't honor --ntasks-per-node\n";
  EXPECT_TRUE(Create("warned").ok());
}

TEST_F(SlurmBackendTest, InvalidPodIsRejectedBeforeSlurm) {
  auto r = Create(
      "inv",
      R"("volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"c"}}],)"
      R"("initContainers":[{"name":"i","image":"x","command":["true"],"volumeMounts":[{"name":"v","mountPath":"/v"}]}],)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(slurm_.Count("sbatch"), 0u);
}

TEST_F(SlurmBackendTest, StatusOfManyPodsCostsOneSqueue) {
  std::vector<std::string> uids;
  for (int i = 0; i < 50; ++i) {
    uids.push_back("m" + std::to_string(i));
    ASSERT_TRUE(Create(uids.back()).ok());
    std::string id = std::to_string(100 + i);
    slurm_.queue[id] =
        id + "|RUNNING|None|0|2026-01-01T00:00:00|2027-01-01T00:00:00|il-" + uids.back();
  }
  size_t before = slurm_.Count("squeue");
  auto st = Status(uids);
  ASSERT_EQ(st.size(), 50u);
  EXPECT_EQ(slurm_.Count("squeue") - before, 1u);
  EXPECT_EQ(slurm_.Count("sacct"), 0u);
  EXPECT_EQ(st[0].jid, "100");
  EXPECT_EQ(State(st[0]), "waiting");  // running job, container not started yet
}

TEST_F(SlurmBackendTest, FinishedJobsFallBackToSacctThenTheJobStatusFile) {
  ASSERT_TRUE(Create("f1").ok());  // job 100
  ASSERT_TRUE(Create("f2").ok());  // job 101
  std::ofstream(Dir("f1") + "/job.status") << "0 1800000000.5\n";
  std::ofstream(Dir("f1") + "/run-a.status") << "0 1800000000.4\n";
  auto st = Status({"f1", "f2"});
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(State(st[0]), "terminated");
  EXPECT_EQ(api::GetInt(st[0].containers[0], {"state", "terminated", "exitCode"}, -1), 0);
  EXPECT_EQ(api::GetString(st[1].containers[0], {"state", "terminated", "reason"}), "SlurmJobLost");
  EXPECT_EQ(slurm_.Count("sacct"), 1u);
  size_t squeues = slurm_.Count("squeue");
  Status({"f1", "f2"});  // both final: no more Slurm calls
  EXPECT_EQ(slurm_.Count("squeue"), squeues);
  EXPECT_EQ(slurm_.Count("sacct"), 1u);
}

TEST_F(SlurmBackendTest, ACancelledJobsContainerKeepsItsOwnExitCodeWrittenAfterTheCancel) {
  // Slurm says CANCELLED at once; the container's TERM trap writes its exit code a moment
  // later. The status must wait for it (not freeze the job's 143) for a short grace.
  auto slurm_time = [](std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", std::localtime(&tt));
    return std::string(buf);
  };
  const auto now = std::chrono::system_clock::now();
  ASSERT_TRUE(Create("c1").ok());  // job 100
  ASSERT_TRUE(Create("c2").ok());  // job 101
  slurm_.queue["100"] = "100|CANCELLED|None|0:15|" + slurm_time(now - std::chrono::seconds(5)) +
                        "|" + slurm_time(now) + "|il-c1";
  slurm_.queue["101"] = "101|CANCELLED|None|0:15|" + slurm_time(now - std::chrono::minutes(5)) +
                        "|" + slurm_time(now - std::chrono::minutes(1)) + "|il-c2";
  for (const char* uid : {"c1", "c2"}) {
    std::ofstream(Dir(uid) + "/run-a.started") << "1800000000.1\n";
  }
  auto st = Status({"c1", "c2"});
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(State(st[0]), "running");  // within the grace: its exit code may still come
  EXPECT_EQ(api::GetString(st[1].containers[0], {"state", "terminated", "reason"}),
            "SlurmJobCancelled");  // a minute on: the job's reason
  std::ofstream(Dir("c1") + "/run-a.status") << "7 1800000000.2\n";
  st = Status({"c1"});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(api::GetInt(st[0].containers[0], {"state", "terminated", "exitCode"}, -1), 7);
  // Final now: a later change of the files does not alter it.
  std::ofstream(Dir("c1") + "/run-a.status") << "9 1800000000.3\n";
  EXPECT_EQ(api::GetInt(Status({"c1"})[0].containers[0], {"state", "terminated", "exitCode"}, -1),
            7);
}

TEST_F(SlurmBackendTest, SacctReportsJobsSqueueForgot) {
  slurm_.sacct_out = "100|TIMEOUT|0:0|TimeLimit|2026-01-01T00:00:00|2026-01-01T00:01:00|il-t\n";
  ASSERT_TRUE(Create("t").ok());
  auto st = Status({"t"});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(api::GetString(st[0].containers[0], {"state", "terminated", "reason"}),
            "SlurmJobTimeout");
}

TEST_F(SlurmBackendTest, DeleteCancelsUnfinishedJobsAndRemovesTheDirectory) {
  ASSERT_TRUE(Create("d").ok());
  ASSERT_TRUE(backend_->Delete({}, PodJson("d")).ok());
  EXPECT_EQ(slurm_.Count("scancel"), 1u);
  EXPECT_FALSE(fs::exists(Dir("d")));
  EXPECT_EQ(backend_->Delete({}, PodJson("d")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Create("done").ok());
  std::ofstream(Dir("done") + "/job.status") << "0 1800000000\n";
  Status({"done"});
  ASSERT_TRUE(backend_->Delete({}, PodJson("done")).ok());
  EXPECT_EQ(slurm_.Count("scancel"), 1u);  // finished: nothing to cancel
}

TEST_F(SlurmBackendTest, DeleteOfARunningPodWithPreStopSignalsTheBatchShellFirst) {
  const std::string hook = R"("containers":[{"name":"a","image":"x","command":["sleep","9"],)"
                           R"("lifecycle":{"preStop":{"exec":{"command":["echo","bye"]}}}}],)";
  api::RetrievedPodData d;
  d.pod = *api::ParseJson(R"({"metadata":{"name":"p","namespace":"default","uid":"ps"},)"
                          R"("spec":{"terminationGracePeriodSeconds":0,)" +
                          hook.substr(0, hook.size() - 1) + "}}");
  ASSERT_TRUE(backend_->Create({}, d).ok());
  slurm_.queue["100"] = "100|RUNNING|None|0:0|2026-01-01T00:00:00|N/A|il-ps";
  Status({"ps"});
  // The job's USR1 trap ran the hooks and ended the job.
  std::ofstream(Dir("ps") + "/job.status") << "143 1800000000\n";
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  std::vector<std::vector<std::string>> cancels;
  for (const auto& c : slurm_.runner->calls()) {
    if (c[0] == "scancel") cancels.push_back(c);
  }
  ASSERT_EQ(cancels.size(), 2u);
  EXPECT_EQ(cancels[0], (std::vector<std::string>{"scancel", "--batch", "--signal=USR1", "100"}));
  EXPECT_EQ(cancels[1], (std::vector<std::string>{"scancel", "100"}));
  EXPECT_FALSE(fs::exists(Dir("ps")));
}

TEST_F(SlurmBackendTest, RestartKeepsJobsAndResolvesInterruptedSubmissions) {
  ASSERT_TRUE(Create("keep").ok());
  // Simulate crashes during sbatch: rows without a job id.
  {
    auto store = JobStore::Open(cfg_.state_file);
    ASSERT_TRUE(store.ok());
    PodRecord r;
    r.uid = "lost-submit";
    r.ns = "default";
    r.name = "x";
    r.dir = Dir("lost-submit");
    r.containers = {{"a", "x", false}};
    ASSERT_TRUE((*store)->Put(r).ok());
    r.uid = "never-submitted";
    r.dir = Dir("never-submitted");
    ASSERT_TRUE((*store)->Put(r).ok());
  }
  slurm_.squeue_by_name = "555|il-lost-submit\n";
  Open();
  auto again = Create("keep");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pod_jid, "100");
  EXPECT_EQ(slurm_.Count("sbatch"), 1u);
  auto resolved = Create("lost-submit");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->pod_jid, "555");
  EXPECT_EQ(slurm_.Count("sbatch"), 1u);
  EXPECT_TRUE(Status({"never-submitted"}).empty());
}

TEST_F(SlurmBackendTest, StartsWithSlurmDownAndResolvesInterruptedSubmissionsLater) {
  {
    auto store = JobStore::Open(cfg_.state_file);
    ASSERT_TRUE(store.ok());
    PodRecord r;
    r.uid = "half";
    r.ns = "default";
    r.name = "x";
    r.dir = Dir("half");
    r.containers = {{"a", "x", false}};
    ASSERT_TRUE((*store)->Put(r).ok());
  }
  slurm_.squeue_fails = true;
  Open();
  EXPECT_EQ(Create("half").status().code(), StatusCode::kUnavailable);
  slurm_.squeue_fails = false;
  slurm_.squeue_by_name = "556|il-half\n";
  auto r = Create("half");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pod_jid, "556");
  EXPECT_EQ(slurm_.Count("sbatch"), 0u);
}

TEST_F(SlurmBackendTest, PingReportsCapacity) {
  auto p = backend_->Ping({});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, "ok");
  EXPECT_EQ(p->resources.at("cpu").as_string(), "16");
  EXPECT_EQ(p->resources.at("memory").as_string(), "32000Mi");
  EXPECT_EQ(p->resources.at("accelerators").as_array().at(0).at("available").as_string(), "2");
}

class StringSink : public api::LogSink {
 public:
  bool Write(std::string_view c) override {
    std::lock_guard l(mu);
    text += c;
    return true;
  }
  bool Gone() override { return false; }
  std::string Text() {
    std::lock_guard l(mu);
    return text;
  }
  std::mutex mu;
  std::string text;
};

TEST_F(SlurmBackendTest, LogsMergeStreamsAndHonourOptions) {
  ASSERT_TRUE(Create("l").ok());
  std::ofstream(Dir("l") + "/run-a.out") << "1800000000.1 out one\n1800000000.3 out two\n";
  std::ofstream(Dir("l") + "/run-a.err") << "1800000000.2 err one\n";
  std::ofstream(Dir("l") + "/run-a.status") << "0 1800000000.4\n";
  api::LogRequest req;
  req.ns = "default";
  req.pod_uid = "l";
  req.container = "a";
  StringSink all;
  ASSERT_TRUE(backend_->GetLogs({}, req, all).ok());
  EXPECT_EQ(all.Text(), "out one\nerr one\nout two\n");
  req.opts.tail = 1;
  req.opts.timestamps = true;
  StringSink tail;
  ASSERT_TRUE(backend_->GetLogs({}, req, tail).ok());
  EXPECT_EQ(tail.Text(), "2027-01-15T08:00:00.300000000Z out two\n");
  req.container = "nope";
  StringSink none;
  EXPECT_EQ(backend_->GetLogs({}, req, none).code(), StatusCode::kNotFound);
}

TEST_F(SlurmBackendTest, FollowStreamsUntilTheContainerEnds) {
  ASSERT_TRUE(Create("fl").ok());
  std::ofstream(Dir("fl") + "/run-a.out") << "1800000000.1 first\n";
  api::LogRequest req;
  req.ns = "default";
  req.pod_uid = "fl";
  req.container = "a";
  req.opts.follow = true;
  StringSink sink;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ofstream(Dir("fl") + "/run-a.out", std::ios::app) << "1800000000.2 second\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ofstream(Dir("fl") + "/run-a.status") << "0 1800000000.3\n";
  });
  ASSERT_TRUE(backend_->GetLogs({}, req, sink).ok());
  writer.join();
  EXPECT_EQ(sink.Text(), "first\nsecond\n");
}

TEST_F(SlurmBackendTest, SharedFilesystemGetsVolumeFilesWithModes) {
  api::RetrievedPodData d;
  d.pod = *api::ParseJson(R"({"metadata":{"name":"v","namespace":"default","uid":"vol"},"spec":{
    "volumes":[{"name":"s","secret":{"secretName":"sec","defaultMode":256}}],
    "containers":[{"name":"a","image":"x","command":["true"],"volumeMounts":[{"name":"s","mountPath":"/s"}]}]}})");
  api::RetrievedContainer c;
  c.name = "a";
  c.secrets.push_back(
      *api::ParseJson(R"({"metadata":{"name":"sec"},"data":{"k":"bGluZTEKbGluZTIK"}})"));
  d.containers.push_back(c);
  ASSERT_TRUE(backend_->Create({}, d).ok());
  std::string f = Dir("vol") + "/volumes/s/k";
  std::ifstream in(f);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "line1\nline2\n");
  struct stat st;
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
}

TEST_F(SlurmBackendTest, NamespaceUsersSubmitAndCancelAsTheTenantWhoOwnsTheJobDir) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  cfg_.namespace_users = {{"default", "nobody"}};
  cfg_.run_as = {"asuser", "{user}"};
  Open();
  auto r = Create("t1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bool as_tenant = false;
  for (const auto& c : slurm_.runner->calls()) {
    if (c.size() > 2 && c[2] == "sbatch") as_tenant = c[0] == "asuser" && c[1] == "nobody";
  }
  EXPECT_TRUE(as_tenant);
  struct stat st;
  ASSERT_EQ(::stat(Dir("t1").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((Dir("t1") + "/job.slurm").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  slurm_.queue["100"] = "100|RUNNING|None|0:0|2026-01-01T00:00:00|N/A|il-t1";
  ASSERT_TRUE(backend_->Delete({}, PodJson("t1")).ok());
  bool cancelled_as_tenant = false;
  for (const auto& c : slurm_.runner->calls()) {
    if (c.size() > 2 && c[2] == "scancel") cancelled_as_tenant = c[1] == "nobody";
  }
  EXPECT_TRUE(cancelled_as_tenant);
  // A namespace without an entry is refused before anything reaches Slurm.
  cfg_.namespace_users = {{"other", "nobody"}};
  Open();
  auto refused = Create("t2");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("NamespaceUsers"), std::string::npos);
}

}  // namespace
}  // namespace il::slurm

namespace il::slurm {
namespace {

TEST_F(SlurmBackendTest, TheWatchPassNotifiesPodsWhoseStatusChanged) {
  EXPECT_TRUE(backend_->SupportsStatusWatch());
  ASSERT_TRUE(Create("w0").ok());
  ASSERT_TRUE(Create("w1").ok());
  slurm_.queue["100"] = "100|PENDING|None|0|2026-01-01T00:00:00|2027-01-01T00:00:00|il-w0";
  slurm_.queue["101"] = "101|PENDING|None|0|2026-01-01T00:00:00|2027-01-01T00:00:00|il-w1";
  auto first = backend_->WatchStatus({}, "", std::chrono::milliseconds(0), nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->reset);
  backend_->ChangePass();
  auto seen = backend_->WatchStatus({}, first->cursor, std::chrono::milliseconds(0), nullptr);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->uids.size(), 2u) << "new pods are changes";
  backend_->ChangePass();
  auto same = backend_->WatchStatus({}, seen->cursor, std::chrono::milliseconds(0), nullptr);
  EXPECT_TRUE(same->uids.empty()) << "nothing changed in Slurm";
  slurm_.queue["100"] = "100|RUNNING|None|0|2026-01-01T00:00:00|2027-01-01T00:00:00|il-w0";
  backend_->ChangePass();
  auto ran = backend_->WatchStatus({}, same->cursor, std::chrono::milliseconds(0), nullptr);
  EXPECT_EQ(ran->uids, std::vector<std::string>{"w0"}) << "the squeue pass saw it start";
}

}  // namespace
}  // namespace il::slurm

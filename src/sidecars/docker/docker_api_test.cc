// DockerApi against an in-process imitation of dockerd's HTTP API on a unix socket: the real
// client (version negotiation, error mapping, request bodies, streams, hijacked exec) is
// exercised; only the engine is fake.
#include "sidecars/docker/docker_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "api/pod.h"
#include "core/http_server.h"

namespace il::docker {
namespace {

std::string Frame(int stream, std::string_view payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  h[4] = static_cast<char>(n >> 24);
  h[5] = static_cast<char>(n >> 16);
  h[6] = static_cast<char>(n >> 8);
  h[7] = static_cast<char>(n);
  return h + std::string(payload);
}

// Records every request; answers from `routes` ("METHOD /path" without the version prefix).
class FakeDockerd {
 public:
  using Route = std::function<void(const http::Request&, http::ResponseWriter&)>;

  explicit FakeDockerd(std::string api_version = "1.41") : api_version_(std::move(api_version)) {
    char tmpl[] = "/tmp/docker_api_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    http::ServerOptions o;
    o.listen = "unix://" + dir_ + "/docker.sock";
    server_ = std::make_unique<http::HttpServer>(o);
    server_->HandlePrefix(
        "/",
        [this](const http::Request& r, http::ResponseWriter& w) {
          std::string path = r.path;
          if (path.rfind("/v", 0) == 0 && path != "/version") {
            size_t slash = path.find('/', 1);
            version_seen_ = path.substr(2, slash - 2);
            path = path.substr(slash);
          }
          Route route;
          {
            std::lock_guard l(mu_);
            requests_.push_back(r);
            auto it = routes_.find(r.method + " " + path);
            if (it != routes_.end()) route = it->second;
          }
          if (path == "/version") {
            w.Reply(200, R"({"Version":"20.10.24","ApiVersion":")" + api_version_ + R"("})");
          } else if (route) {
            route(r, w);
          } else {
            w.Reply(404, R"({"message":"page not found"})");
          }
        },
        http::RouteOptions{.stream = true});
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeDockerd() {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  void On(const std::string& key, Route r) {
    std::lock_guard l(mu_);
    routes_[key] = std::move(r);
  }
  std::vector<http::Request> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  http::Request Last(const std::string& method, const std::string& suffix) {
    auto all = requests();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      const auto& r = *it;
      if (r.method == method && r.path.size() >= suffix.size() &&
          r.path.compare(r.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return r;
      }
    }
    ADD_FAILURE() << "no " << method << " ..." << suffix;
    return {};
  }
  std::string url() const { return "unix://" + dir_ + "/docker.sock"; }
  std::string version_seen() const { return version_seen_; }

  std::unique_ptr<DockerApi> Client() {
    DockerEndpoint ep;
    ep.url = url();
    auto api = DockerApi::Create(ep);
    EXPECT_TRUE(api.ok());
    return std::move(api).value();
  }

 private:
  std::string api_version_;
  std::string dir_;
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::map<std::string, Route> routes_;
  std::vector<http::Request> requests_;
  std::string version_seen_;
};

EnvLookup Env(const std::map<std::string, std::string>& m) {
  return [m](const char* n) {
    auto it = m.find(n);
    return it == m.end() ? std::string() : it->second;
  };
}

TEST(DockerEndpoint, DefaultsToTheLocalSocket) {
  auto ep = ResolveDockerEndpoint("", Env({}));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "unix:///var/run/docker.sock");
}

TEST(DockerEndpoint, ReadsDockerHostLikeTheCli) {
  auto ep = ResolveDockerEndpoint("", Env({{"DOCKER_HOST", "tcp://10.0.0.1:2375"}}));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "http://10.0.0.1:2375");
  ep = ResolveDockerEndpoint("", Env({{"DOCKER_HOST", "unix:///run/user/1000/docker.sock"},
                                      {"DOCKER_API_VERSION", "1.41"}}));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "unix:///run/user/1000/docker.sock");
  EXPECT_EQ(ep->pinned_version, "1.41");
}

TEST(DockerEndpoint, TheSettingWinsOverDockerHost) {
  auto ep = ResolveDockerEndpoint("unix:///x/d.sock", Env({{"DOCKER_HOST", "tcp://h:1"}}));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "unix:///x/d.sock");
}

TEST(DockerEndpoint, TlsFromCertPathVerifiesOnlyWithTlsVerify) {
  char tmpl[] = "/tmp/docker_api_certs.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) {
    FILE* fp = std::fopen((dir + "/" + f).c_str(), "w");
    std::fclose(fp);
  }
  auto ep =
      ResolveDockerEndpoint("", Env({{"DOCKER_HOST", "tcp://d:2376"}, {"DOCKER_CERT_PATH", dir}}));
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "https://d:2376");
  EXPECT_TRUE(ep->tls.insecure_skip_verify);
  EXPECT_EQ(ep->tls.cert_file, dir + "/cert.pem");
  ep = ResolveDockerEndpoint("", Env({{"DOCKER_HOST", "tcp://d:2376"},
                                      {"DOCKER_CERT_PATH", dir},
                                      {"DOCKER_TLS_VERIFY", "1"}}));
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->tls.insecure_skip_verify);
  EXPECT_EQ(ep->tls.ca_file, dir + "/ca.pem");
  EXPECT_EQ(ep->tls.key_file, dir + "/key.pem");
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(ResolveDockerEndpoint("", Env({{"DOCKER_HOST", "tcp://d:2376"},
                                              {"DOCKER_CERT_PATH", dir},
                                              {"DOCKER_TLS_VERIFY", "1"}}))
                   .ok());
}

TEST(DockerEndpoint, RefusesOtherSchemes) {
  EXPECT_FALSE(ResolveDockerEndpoint("ssh://u@h", Env({})).ok());
  EXPECT_FALSE(ResolveDockerEndpoint("npipe:////./pipe/docker_engine", Env({})).ok());
  EXPECT_FALSE(ResolveDockerEndpoint("unix://relative.sock", Env({})).ok());
}

TEST(DockerApiVersion, ComparesNumerically) {
  EXPECT_LT(CompareApiVersions("1.9", "1.41"), 0);
  EXPECT_GT(CompareApiVersions("1.43", "1.41"), 0);
  EXPECT_EQ(CompareApiVersions("1.41", "1.41"), 0);
  EXPECT_GT(CompareApiVersions("2.0", "1.99"), 0);
}

TEST(StreamDemuxer, SplitsFramesCutAnywhere) {
  std::string all = Frame(1, "hello\n") + Frame(2, "oops") + Frame(0, "in") + Frame(1, "");
  all += Frame(3, "Error grabbing logs");
  for (size_t step : {1u, 3u, 7u, 8u, 100u}) {
    StreamDemuxer d;
    std::map<int, std::string> got;
    for (size_t i = 0; i < all.size(); i += step) {
      ASSERT_TRUE(d.Feed(std::string_view(all).substr(i, step), [&](int s, std::string_view b) {
        got[s] += b;
        return true;
      }));
    }
    EXPECT_EQ(got[1], "hello\nin") << step;
    EXPECT_EQ(got[2], "oops");
    EXPECT_EQ(got[3], "Error grabbing logs");
  }
}

TEST(StreamDemuxer, StopsWhenTheSinkSaysSo) {
  StreamDemuxer d;
  int calls = 0;
  EXPECT_FALSE(d.Feed(Frame(1, "a") + Frame(1, "b"), [&](int, std::string_view) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

TEST(DockerApi, NegotiatesDownToTheNewestItSpeaks) {
  FakeDockerd d("1.43");
  d.On("GET /info", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(200, R"({"ServerVersion":"24.0"})");
  });
  auto api = d.Client();
  auto v = api->Version();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "1.41");
  ASSERT_TRUE(api->Info().ok());
  EXPECT_EQ(d.version_seen(), "1.41");
}

TEST(DockerApi, RefusesAnOlderServerClearly) {
  FakeDockerd d("1.40");
  auto api = d.Client();
  auto s = api->InspectContainer("x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("1.40"), std::string::npos);
  EXPECT_NE(s.status().message().find("needs 1.41"), std::string::npos);
}

TEST(DockerApi, DaemonDownIsUnavailable) {
  DockerEndpoint ep;
  ep.url = "unix:///nonexistent/docker.sock";
  auto api = DockerApi::Create(ep);
  ASSERT_TRUE(api.ok());
  auto s = (*api)->InspectContainer("x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
}

TEST(DockerApi, CreateSendsTheBodyAsJsonAndTheNameEscaped) {
  FakeDockerd d;
  d.On("POST /containers/create", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(201, R"({"Id":"abc","Warnings":[]})");
  });
  auto api = d.Client();
  json::object body{{"Image", "busybox"},
                    {"Cmd", json::array{"sh", "-c", "echo $(id); rm -rf / ; `x`"}},
                    {"Env", json::array{"A=b c\nd"}}};
  auto id = api->CreateContainer("il-a b&c=d", body);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "abc");
  auto r = d.Last("POST", "/containers/create");
  EXPECT_EQ(r.query["name"], "il-a b&c=d");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  auto sent = api::ParseJson(r.body);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(json::value(body), *sent);
}

TEST(DockerApi, MapsErrorRepliesWithDockersMessage) {
  FakeDockerd d;
  d.On("POST /containers/create", [](const http::Request& r, http::ResponseWriter& w) {
    if (r.query.at("name") == "taken") {
      w.Reply(409, R"({"message":"Conflict. The container name \"/taken\" is already in use"})");
    } else {
      w.Reply(404, R"({"message":"No such image: nope:1"})");
    }
  });
  d.On("POST /containers/c/start", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(400, R"({"message":"exec: \"nope\": executable file not found in $PATH"})");
  });
  d.On("POST /containers/c/stop", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("t"), "7");
    w.Reply(304, "", "");
  });
  d.On("DELETE /containers/c", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("force"), "1");
    EXPECT_EQ(r.query.at("v"), "1");
    w.Reply(404, R"({"message":"No such container: c"})");
  });
  auto api = d.Client();
  auto taken = api->CreateContainer("taken", {{"Image", "x"}});
  EXPECT_EQ(taken.status().code(), StatusCode::kAlreadyExists);
  auto missing = api->CreateContainer("m", {{"Image", "nope:1"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("No such image: nope:1"), std::string::npos);
  Status start = api->StartContainer("c");
  EXPECT_EQ(start.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(start.message().find("executable file not found"), std::string::npos);
  EXPECT_TRUE(api->StopContainer("c", 7).ok());
  EXPECT_EQ(api->RemoveContainer("c").code(), StatusCode::kNotFound);
}

TEST(DockerApi, ListsByLabelFilter) {
  FakeDockerd d;
  d.On("GET /containers/json", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("all"), "1");
    EXPECT_EQ(r.query.at("filters"), R"({"label":["io.kubernetes.pod.uid=u 1"]})");
    w.Reply(200, R"([{"Id":"a","Names":["/il-x"]}])");
  });
  auto api = d.Client();
  auto l = api->ListContainers({{"label", json::array{"io.kubernetes.pod.uid=u 1"}}});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 1u);
}

TEST(DockerApi, LogsAreDemultiplexed) {
  FakeDockerd d;
  d.On("GET /containers/c/logs", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("timestamps"), "1");
    EXPECT_EQ(r.query.at("tail"), "5");
    std::string all = Frame(1, "out 1\nout") + Frame(2, "err\n") + Frame(1, " 2\n");
    w.BeginStream(200, "");
    for (size_t i = 0; i < all.size(); i += 5) w.Write(all.substr(i, 5));
  });
  auto api = d.Client();
  LogsOptions o;
  o.timestamps = true;
  o.tail = "5";
  std::map<int, std::string> got;
  Status s = api->Logs("c", o, [&](int st, std::string_view b) {
    got[st] += b;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got[1], "out 1\nout 2\n");
  EXPECT_EQ(got[2], "err\n");
}

TEST(DockerApi, EventsArriveOnePerObject) {
  FakeDockerd d;
  d.On("GET /events", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("filters"), R"({"type":["container"],"label":["il=1"]})");
    w.BeginStream(200, "application/json");
    w.Write(R"({"Type":"container","Action":"start","Actor":{"ID":"a"}})"
            "\n"
            R"({"Type":"container","Action":"di)");
    w.Write(R"(e","Actor":{"ID":"a","Attributes":{"exitCode":"3"}}})"
            "\n");
  });
  auto api = d.Client();
  std::vector<std::string> actions;
  Status s = api->Events({{"type", json::array{"container"}}, {"label", json::array{"il=1"}}},
                         [&](const json::value& v) {
                           actions.push_back(api::GetString(v, {"Action"}));
                           return true;
                         },
                         {});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(actions, (std::vector<std::string>{"start", "die"}));
}

TEST(DockerApi, PullReportsProgressAndFailsOnAnErrorInTheStream) {
  FakeDockerd d;
  d.On("POST /images/create", [](const http::Request& r, http::ResponseWriter& w) {
    w.BeginStream(200, "application/json");
    w.Write(R"({"status":"Pulling from library/busybox","id":"1"})"
            "\n");
    if (r.query.at("fromImage") == "bad") {
      w.Write(R"({"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"})"
              "\n");
    } else {
      EXPECT_EQ(r.query.at("tag"), "1.36");
      w.Write(R"({"status":"Status: Downloaded newer image for busybox:1.36"})"
              "\n");
    }
  });
  auto api = d.Client();
  int lines = 0;
  EXPECT_TRUE(api->PullImage("busybox:1.36", [&](const json::value&) { ++lines; }).ok());
  EXPECT_EQ(lines, 2);
  Status bad = api->PullImage("bad", {});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("manifest unknown"), std::string::npos);
  EXPECT_EQ(d.Last("POST", "/images/create").query["tag"], "latest");
}

TEST(DockerApi, ImportSendsTheTarAndTheChanges) {
  FakeDockerd d;
  d.On("POST /images/create", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("fromSrc"), "-");
    EXPECT_EQ(r.headers.Get("content-type"), "application/x-tar");
    EXPECT_EQ(r.body, std::string("tar\0bytes", 9));
    w.Reply(200, R"({"status":"sha256:abc"})"
                 "\n");
  });
  auto api = d.Client();
  EXPECT_TRUE(
      api->ImportImage(std::string("tar\0bytes", 9), "il/pause", "1", {"ENTRYPOINT [\"/pause\"]"})
          .ok());
  auto r = d.Last("POST", "/images/create");
  EXPECT_NE(r.target.find("changes=ENTRYPOINT%20%5B%22%2Fpause%22%5D"), std::string::npos);
  EXPECT_EQ(r.query["repo"], "il/pause");
}

TEST(DockerApi, ExecHijacksTheConnectionAndReadsTheExitCode) {
  FakeDockerd d;
  d.On("POST /containers/c/exec", [](const http::Request& r, http::ResponseWriter& w) {
    auto v = api::ParseJson(r.body);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->at("Cmd"), (json::array{"sh", "-c", "exit 7"}));
    w.Reply(201, R"({"Id":"e1"})");
  });
  d.On("POST /exec/e1/start", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.headers.Get("upgrade"), "tcp");
    auto s = w.Upgrade(101);
    ASSERT_TRUE(s);
    s->Write(Frame(1, "hi\n") + Frame(2, "oops\n"));
    s->Close();
  });
  d.On("GET /exec/e1/json", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(200, R"({"ID":"e1","Running":false,"ExitCode":7,"Pid":42})");
  });
  auto api = d.Client();
  ExecConfig c;
  c.cmd = {"sh", "-c", "exit 7"};
  auto out = api->RunExec("c", c, std::chrono::seconds(10));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->exit_code, 7);
  EXPECT_EQ(out->out, "hi\n");
  EXPECT_EQ(out->err, "oops\n");
  EXPECT_FALSE(out->timed_out);
}

TEST(DockerApi, ExecOnAStoppedContainerIsAnError) {
  FakeDockerd d;
  d.On("POST /containers/c/exec", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(409, R"({"message":"Container c is not running"})");
  });
  auto api = d.Client();
  ExecConfig c;
  c.cmd = {"true"};
  auto out = api->RunExec("c", c, std::chrono::seconds(10));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("is not running"), std::string::npos);
}

}  // namespace
}  // namespace il::docker

#include "kube/kubeconfig.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "kube/base64.h"

namespace il::kube {
namespace {
namespace fs = std::filesystem;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubeconfig_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& rel, const std::string& content) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
  static EnvLookup Env(const std::map<std::string, std::string>& vars) {
    return [vars](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }

  std::string dir_;
};

constexpr char kTwoContexts[] = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: pki/ca.crt
- name: prod-cluster
  cluster:
    server: https://prod.example.com
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    tls-server-name: kubernetes
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
users:
- name: dev-user
  user:
    client-certificate: pki/client.crt
    client-key: /ABS/pki/client.key
- name: prod-user
  user:
    token: s3cret
)";

std::string TwoContexts(const std::string& abs_dir) {
  std::string s = kTwoContexts;
  s.replace(s.find("/ABS"), 4, abs_dir);
  return s;
}

TEST_F(KubeconfigTest, CurrentContextWithFilesResolvedAgainstKubeconfigDir) {
  Write("pki/ca.crt", "CA");
  Write("pki/client.crt", "CERT");
  Write("pki/client.key", "KEY");
  auto path = Write("kube/../config", TwoContexts(dir_));
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->tls.ca_file, dir_ + "/pki/ca.crt");
  EXPECT_EQ(c->tls.cert_file, dir_ + "/pki/client.crt");
  EXPECT_EQ(c->tls.key_file, dir_ + "/pki/client.key");
  EXPECT_EQ(c->default_namespace, "team-a");
  EXPECT_TRUE(c->token.empty());
  EXPECT_FALSE(c->tls.insecure_skip_verify);
}

TEST_F(KubeconfigTest, NamedContextWithDataFieldsAndToken) {
  auto path = Write("config", TwoContexts(dir_));
  auto c = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://prod.example.com:443");  // port filled in
  EXPECT_EQ(c->tls.ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_TRUE(c->tls.ca_file.empty());
  EXPECT_EQ(c->tls.server_name, "kubernetes");
  EXPECT_EQ(c->token, "s3cret");
  EXPECT_NE(c->source.find("context=prod"), std::string::npos);
}

TEST_F(KubeconfigTest, ClientCertDataTokenFileAndInsecure) {
  Write("tok", "abc\n");
  std::string yaml = R"(
current-context: c
clusters: [{name: k, cluster: {server: "10.0.0.1:8443/prefix/", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {client-certificate-data: )" +
                     Base64Encode("CERT") + ", client-key-data: " + Base64Encode("KEY") +
                     R"(, tokenFile: tok}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)";
  auto c = ParseKubeconfig(yaml, dir_, "", "inline");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:8443/prefix");
  EXPECT_TRUE(c->tls.insecure_skip_verify);
  EXPECT_EQ(c->tls.cert_pem, "CERT");
  EXPECT_EQ(c->tls.key_pem, "KEY");
  EXPECT_EQ(c->token_file, dir_ + "/tok");
}

void ExpectError(const Result<ClusterConfig>& r, const std::string& part) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().ToString();
}

TEST_F(KubeconfigTest, ErrorsNameTheFileAndTheField) {
  auto path = Write("config", TwoContexts(dir_));
  ExpectError(LoadKubeconfig(path, "nope"), path + ": contexts: no entry named \"nope\"");
  // dev's certificate files do not exist in this directory.
  ExpectError(LoadKubeconfig(path, "dev"),
              path + ": clusters[dev-cluster].cluster.certificate-authority: cannot read");
  ExpectError(LoadKubeconfig(dir_ + "/missing"), dir_ + "/missing");
  ExpectError(ParseKubeconfig("a: [", dir_, "", "f"), "f: invalid YAML");
  ExpectError(ParseKubeconfig("clusters: []", dir_, "", "f"), "f: current-context: not set");
  std::string base = R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1", certificate-authority-data: "%%%"}}]
users: [{name: u, user: {}}]
)";
  ExpectError(ParseKubeconfig(base, dir_, "", "f"),
              "f: clusters[k].cluster.certificate-authority-data: invalid base64");
  std::string exec = R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {exec: {command: aws}}}]
)";
  ExpectError(ParseKubeconfig(exec, dir_, "", "f"), "f: users[u].user.exec: not supported");
  std::string half = R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]
)";
  ExpectError(ParseKubeconfig(half, dir_, "", "f"), "must be given together");
  std::string no_server = R"(
current-context: c
contexts: [{name: c, context: {cluster: k}}]
clusters: [{name: k, cluster: {}}]
)";
  ExpectError(ParseKubeconfig(no_server, dir_, "", "f"), "f: clusters[k].cluster.server: missing");
}

TEST_F(KubeconfigTest, InClusterUsesServiceAccountFiles) {
  Write("sa/token", "tok");
  Write("sa/ca.crt", "CA");
  Write("sa/namespace", "kube-system\n");
  auto env = Env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  auto c = InClusterConfig(env, dir_ + "/sa");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, dir_ + "/sa/token");
  EXPECT_EQ(c->tls.ca_file, dir_ + "/sa/ca.crt");
  EXPECT_EQ(c->default_namespace, "kube-system");
  auto v6 = InClusterConfig(
      Env({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
      dir_ + "/sa");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->server, "https://[fd00::1]:6443");
  EXPECT_EQ(InClusterConfig(Env({}), dir_ + "/sa").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(InClusterConfig(env, dir_ + "/nosa").status().code(), StatusCode::kNotFound);
}

TEST_F(KubeconfigTest, ResolutionOrderFlagCustomKubeconfigInClusterHome) {
  auto one = [&](const std::string& name, const std::string& server) {
    return Write(name,
                 "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                 "clusters: [{name: k, cluster: {server: \"" +
                     server + "\"}}]\n");
  };
  auto flag = one("flag", "https://flag:1");
  auto custom = one("custom", "https://custom:1");
  auto kc = one("kc", "https://kc:1");
  one("home/.kube/config", "https://home:1");
  Write("sa/token", "t");
  std::map<std::string, std::string> vars = {{"CUSTOMKUBECONF", custom},
                                             {"KUBECONFIG", dir_ + "/absent:" + kc},
                                             {"KUBERNETES_SERVICE_HOST", "incluster"},
                                             {"KUBERNETES_SERVICE_PORT", "1"},
                                             {"HOME", dir_ + "/home"}};
  auto server = [&](const std::string& f) {
    auto r = ResolveClusterConfig(f, Env(vars), dir_ + "/sa");
    return r.ok() ? r->server : r.status().ToString();
  };
  EXPECT_EQ(server(flag), "https://flag:1");
  EXPECT_EQ(server(""), "https://custom:1");
  vars.erase("CUSTOMKUBECONF");
  EXPECT_EQ(server(""), "https://kc:1");
  vars.erase("KUBECONFIG");
  EXPECT_EQ(server(""), "https://incluster:1");
  vars.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(server(""), "https://home:1");
  vars["HOME"] = dir_ + "/nohome";
  auto none = ResolveClusterConfig("", Env(vars), dir_ + "/sa");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("does not exist"), std::string::npos);
  vars["CUSTOMKUBECONF"] = dir_ + "/missing";
  EXPECT_FALSE(ResolveClusterConfig("", Env(vars), dir_ + "/sa").ok());  // named: no fallback
}

}  // namespace
}  // namespace il::kube

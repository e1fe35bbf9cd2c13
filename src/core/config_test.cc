#include "core/config.h"

#include <gtest/gtest.h>

#include <map>

namespace il {
namespace {

EnvLookup Env(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, ReadsSeedKeys) {
  auto c = ParseConfig(R"(
InterlinkURL: "http://localhost"
InterlinkPort: "3000"
SidecarURL: "http://localhost"
SidecarService: "slurm"
VKTokenFile: "/tmp/token"
ExportPodData: false
)",
                       "test.yaml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->InterlinkListenUrl(), "http://localhost:3000");
  EXPECT_EQ(c->SidecarEndpoint("4000"), "http://localhost:4001");
  EXPECT_EQ(c->vk_token_file, "/tmp/token");
  EXPECT_FALSE(c->export_pod_data);
}

// The seed's Slurm keys (SbatchPath, CommandPrefix, Tsocks, ...) are slurm-sd's
// (sidecar_settings, sidecars/slurm/slurm_config_test.cc); interlink only accepts them as
// another component's, and does not read their variables.
TEST(Config, SlurmKeysAreNotInterlinksOwn) {
  const std::string yaml = "SbatchPath: /opt/sbatch\nTsocks: true\n";
  auto own = ParseConfig(yaml, "f.yaml", Env({}));
  ASSERT_FALSE(own.ok());
  EXPECT_NE(own.status().message().find("key 'SbatchPath': unknown key"), std::string::npos)
      << own.status().message();
  const OtherKeys slurm{{},
                        {{"SbatchPath", {}, {"SBATCHPATH"}, "string", "", "", {}},
                         {"Tsocks", {}, {"TSOCKS"}, "bool", "", "", {}}}};
  // Tsocks without TsocksPath, and a bad TSOCKS, are slurm-sd's errors, not interlink's.
  auto foreign = ParseConfig(yaml, "f.yaml", Env({{"TSOCKS", "yes please"}}), slurm);
  ASSERT_TRUE(foreign.ok()) << foreign.status().ToString();
  EXPECT_TRUE(foreign->sidecar_settings.empty());
}

TEST(Config, EnvironmentBeatsFileBeatsDefault) {
  auto c = ParseConfig(
      "InterlinkPort: 3001\nSidecarService: docker\n", "f.yaml",
      Env({{"INTERLINKPORT", "3005"}, {"SIDECARPORT", "4444"}, {"VKTOKENFILE", "/etc/tok"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->interlink_port, "3005");
  EXPECT_EQ(c->EffectiveSidecarPort("1"), "4444");
  EXPECT_EQ(c->vk_token_file, "/etc/tok");
  auto d = ParseConfig("", "", Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->interlink_port, "3000");
  EXPECT_EQ(d->EffectiveSidecarPort("4002"), "4002");
}

TEST(Config, UnknownKeyNamesKeyAndFileWithASuggestion) {
  auto c = ParseConfig("SidecarPrt: 4000\n", "/etc/interlink/InterLinkConfig.yaml", Env({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/etc/interlink/InterLinkConfig.yaml"), std::string::npos);
  EXPECT_NE(c.status().message().find("SidecarPrt"), std::string::npos);
  EXPECT_NE(c.status().message().find("SidecarPort"), std::string::npos);
}

TEST(Config, BadValuesAreRejectedWithTheKey) {
  auto bad_port = ParseConfig("InterlinkPort: 99999\n", "f.yaml", Env({}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("InterlinkPort"), std::string::npos);
  EXPECT_FALSE(ParseConfig("ExportPodData: maybe\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("SidecarService: kubernetes\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("SidecarURL: localhost\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("[1, 2]\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("a: [\n", "f.yaml", Env({})).ok());
  auto env_bad = ParseConfig("", "", Env({{"INTERLINKPORT", "port 80"}}));
  ASSERT_FALSE(env_bad.ok());
  EXPECT_NE(env_bad.status().message().find("INTERLINKPORT"), std::string::npos)
      << env_bad.status().message();
}

TEST(Config, AcceptsUpstreamKeysAndVkKeys) {
  auto c = ParseConfig(R"(
InterlinkAddress: "unix:///tmp/il.sock"
InterlinkPort: "0"
SidecarURL: "unix:///tmp/plugin.sock"
SidecarPort: "0"
VerboseLogging: true
TLS:
  Enabled: true
  CertFile: /c.pem
  KeyFile: /k.pem
  CACertFile: /ca.pem
Resources:
  CPU: "100"
NodeTaints: []
)",
                       "up.yaml", Env({}),
                       // The vk's keys, as the catalog (daemon/config_catalog.h) declares them.
                       OtherKeys{{},
                                 {{"Resources", {}, {}, "block", "", "", {}},
                                  {"NodeTaints", {}, {}, "list", "", "", {}}}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->InterlinkListenUrl(), "unix:///tmp/il.sock");
  EXPECT_EQ(c->SidecarEndpoint("4000"), "unix:///tmp/plugin.sock");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->tls.ca_cert_file, "/ca.pem");
}

TEST(Config, KeysOfOtherComponentsAreUnknownUnlessDeclared) {
  auto c = ParseConfig("NodeTaints: []\n", "f.yaml", Env({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("key 'NodeTaints': unknown key"), std::string::npos)
      << c.status().message();
}

TEST(Config, TheRunningSidecarsKeysAreKeptAsText) {
  auto c = ParseConfig("Partition: gpu\nAllowedRuntimes: [podman, none]\n", "f.yaml", Env({}),
                       OtherKeys{{{"Partition", {}, {}, "string", "", "", {}},
                                  {"AllowedRuntimes", {}, {}, "list", "", "", {}}},
                                 {}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sidecar_settings.at("Partition"), "gpu");
  EXPECT_NE(c->sidecar_settings.at("AllowedRuntimes").find("podman"), std::string::npos);
}

// The example files (with the vk's keys) load in daemon/config_catalog_test.cc.

TEST(Config, MissingExplicitFileIsAnError) {
  EXPECT_FALSE(ResolveConfigPath("/nonexistent.yaml", Env({})).ok());
  EXPECT_FALSE(ResolveConfigPath("", Env({{"INTERLINKCONFIGPATH", "/nonexistent.yaml"}})).ok());
}

// --- OIDC / TrustedProxies ---

TEST(ConfigOidc, ReadsEveryOidcKeyAndTrustedProxies) {
  auto c = ParseConfig(R"(
OIDC:
  Issuer: https://idp.example/realms/hpc
  Audience: interlink
  JWKSURL: https://idp.example/realms/hpc/protocol/openid-connect/certs
  JWKSCAFile: /etc/ssl/idp-ca.pem
  AllowedSubjects: [svc-vk-1, svc-vk-2]
  AllowedGroups:
    - hpc-admins
  AllowedEmails: ops@example.org
  SubjectClaim: preferred_username
  GroupsClaim: roles
  EmailClaim: mail
  ClockSkewSeconds: 30
TrustedProxies: ["127.0.0.1", "10.0.0.0/8"]
)",
                       "oidc.yaml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const OidcConfig& o = c->oidc;
  EXPECT_TRUE(o.enabled());
  EXPECT_EQ(o.issuer, "https://idp.example/realms/hpc");
  EXPECT_EQ(o.audience, "interlink");
  EXPECT_EQ(o.jwks_url, "https://idp.example/realms/hpc/protocol/openid-connect/certs");
  EXPECT_EQ(o.jwks_ca_file, "/etc/ssl/idp-ca.pem");
  EXPECT_EQ(o.allowed_subjects, (std::vector<std::string>{"svc-vk-1", "svc-vk-2"}));
  EXPECT_EQ(o.allowed_groups, (std::vector<std::string>{"hpc-admins"}));
  EXPECT_EQ(o.allowed_emails, (std::vector<std::string>{"ops@example.org"}));
  EXPECT_EQ(o.subject_claim, "preferred_username");
  EXPECT_EQ(o.groups_claim, "roles");
  EXPECT_EQ(o.email_claim, "mail");
  EXPECT_EQ(o.clock_skew_seconds, 30);
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"127.0.0.1", "10.0.0.0/8"}));
}

TEST(ConfigOidc, DefaultsAreOffWithStandardClaimNames) {
  auto c = ParseConfig("", "", Env({}));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->oidc.enabled());
  EXPECT_EQ(c->oidc.subject_claim, "sub");
  EXPECT_EQ(c->oidc.groups_claim, "groups");
  EXPECT_EQ(c->oidc.email_claim, "email");
  EXPECT_EQ(c->oidc.clock_skew_seconds, 60);
  EXPECT_TRUE(c->trusted_proxies.empty());
}

TEST(ConfigOidc, UnknownOidcKeyIsAnErrorWithASuggestion) {
  auto c = ParseConfig("OIDC:\n  Issuer: https://i\n  Audiance: x\n", "f.yaml", Env({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("OIDC.Audiance"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("did you mean 'OIDC.Audience'"), std::string::npos)
      << c.status().message();
  auto top = ParseConfig("OIDCC: {}\n", "f.yaml", Env({}));
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.status().message().find("OIDC"), std::string::npos);
}

TEST(ConfigOidc, InconsistentSettingsAreRejected) {
  for (const char* bad : {
           // no audience
           "OIDC: {Issuer: https://i, JWKSFile: /k}\n",
           // no key source, or both
           "OIDC: {Issuer: https://i, Audience: a}\n",
           "OIDC: {Issuer: https://i, Audience: a, JWKSFile: /k, JWKSURL: https://i/k}\n",
           // key settings without an issuer
           "OIDC: {Audience: a, JWKSFile: /k}\n",
           // an allow-list that would apply to nothing
           "OIDC: {AllowedSubjects: [x]}\n",
           "OIDC: {Issuer: https://i, Audience: a, JWKSURL: ftp://i/k}\n",
           "OIDC: {Issuer: https://i, Audience: a, JWKSFile: /k, ClockSkewSeconds: -1}\n",
           "OIDC: {Issuer: https://i, Audience: a, JWKSFile: /k, AllowedGroups: {a: b}}\n",
           "OIDC: [x]\n",
           "TrustedProxies: {a: b}\n",
       }) {
    EXPECT_FALSE(ParseConfig(bad, "f.yaml", Env({})).ok()) << bad;
  }
  // Allow-lists for proxy identities alone are fine.
  EXPECT_TRUE(
      ParseConfig("OIDC: {AllowedEmails: [a@b]}\nTrustedProxies: [127.0.0.1]\n", "f", Env({}))
          .ok());
}

}  // namespace
}  // namespace il

namespace il {
namespace {

TEST(ConfigListeners, DefaultsListenOnLoopbackOnly) {
  auto c = ParseConfig("", "", [](const std::string&) { return std::optional<std::string>(); });
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->InterlinkListenUrl(), "http://127.0.0.1:3000");
  EXPECT_EQ(c->SidecarListenUrl("4000"), "http://127.0.0.1:4000");
  EXPECT_FALSE(c->allow_unauthenticated_listen);
}

TEST(ConfigListeners, SidecarListensOnTheHostOfSidecarURL) {
  auto none = [](const std::string&) { return std::optional<std::string>(); };
  auto c = ParseConfig("SidecarURL: http://10.1.2.3\nSidecarPort: 4100\n", "f.yaml", none);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->SidecarListenUrl("4000"), "http://10.1.2.3:4100");
  c = ParseConfig("SidecarURL: unix:///run/il/sd.sock\n", "f.yaml", none);
  EXPECT_EQ(c->SidecarListenUrl("4000"), "unix:///run/il/sd.sock");
  c = ParseConfig(R"(
SidecarURL: https://localhost
SidecarTLS: {Enabled: true, CertFile: /c.pem, KeyFile: /k.pem, CACertFile: /ca.pem}
SidecarClientTLS: {CACertFile: /ca.pem, CertFile: /ic.pem, KeyFile: /ik.pem, ServerName: sd}
AllowUnauthenticatedListen: true
MaxConnections: 10
MaxConnectionsPerPeer: 5
MaxStreams: 4
MaxStreamsPerPeer: 2
)",
                  "f.yaml", none);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->SidecarListenUrl("4000"), "https://127.0.0.1:4000");
  EXPECT_EQ(c->sidecar_tls.ca_cert_file, "/ca.pem");
  EXPECT_EQ(c->sidecar_client_tls.cert_file, "/ic.pem");
  EXPECT_EQ(c->sidecar_client_tls.server_name, "sd");
  EXPECT_TRUE(c->allow_unauthenticated_listen);
  EXPECT_EQ(c->limits.max_connections, 10u);
  EXPECT_EQ(c->limits.max_streams_per_peer, 2u);
}

TEST(ConfigListeners, BadTlsBlocksAreRejectedWithTheKey) {
  auto none = [](const std::string&) { return std::optional<std::string>(); };
  auto c = ParseConfig("SidecarTLS: {Enabled: true}\n", "f.yaml", none);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("SidecarTLS.CertFile"), std::string::npos);
  c = ParseConfig("SidecarClientTLS: {CertFile: /a}\n", "f.yaml", none);
  ASSERT_FALSE(c.ok());
  c = ParseConfig("SidecarClientTLS: {Bogus: 1}\n", "f.yaml", none);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("SidecarClientTLS.Bogus"), std::string::npos);
}

}  // namespace
}  // namespace il

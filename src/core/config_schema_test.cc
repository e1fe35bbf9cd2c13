#include "core/config_schema.h"

#include <gtest/gtest.h>

#include <map>

namespace il::config {
namespace {

struct Settings {
  std::string url = "http://default";
  bool verbose = false;
  int port = 3000;
  std::vector<std::string> proxies;
};

std::vector<Key<Settings>> Table() {
  return {
      {{"InterlinkURL",
        {"InterlinkAddress"},
        {"INTERLINKURL"},
        "string",
        "http://default",
        "url",
        {}},
       SetString(&Settings::url, true)},
      {{"Verbose", {}, {}, "bool", "false", "debug", {}}, SetBool(&Settings::verbose)},
      {{"Port", {}, {"PORT", "MY_PORT"}, "port", "3000", "port", {}},
       SetInt(&Settings::port, 1, 65535)},
      {{"Proxies", {}, {}, "list", "[]", "proxies", {}}, SetList(&Settings::proxies)},
  };
}

EnvLookup Env(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

Status Load(const std::string& yaml, Settings* s, const std::vector<KeyInfo>& foreign = {},
            EnvLookup env = Env({}), std::vector<std::pair<std::string, std::string>> flags = {}) {
  auto table = Table();
  IL_ASSIGN_OR_RETURN(YAML::Node doc, ParseDocument(yaml, "f.yaml"));
  Sources src;
  src.file = doc;
  src.origin = "f.yaml";
  src.env = std::move(env);
  src.flags = std::move(flags);
  return LoadSettings(table, foreign, src, s);
}

TEST(ConfigSchema, FileKeysAliasesAndTypes) {
  Settings s;
  ASSERT_TRUE(
      Load("InterlinkAddress: unix:///x\nVerbose: yes\nPort: 42\nProxies: [a, b]\n", &s).ok());
  EXPECT_EQ(s.url, "unix:///x");
  EXPECT_TRUE(s.verbose);
  EXPECT_EQ(s.port, 42);
  EXPECT_EQ(s.proxies, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigSchema, JsonFilesLoadToo) {
  Settings s;
  ASSERT_TRUE(Load(R"({"InterlinkURL": "http://j", "Port": 7})", &s).ok());
  EXPECT_EQ(s.url, "http://j");
  EXPECT_EQ(s.port, 7);
}

TEST(ConfigSchema, FlagsBeatEnvironmentBeatsFile) {
  Settings s;
  ASSERT_TRUE(Load("Port: 1\nInterlinkURL: http://file\n", &s, {},
                   Env({{"PORT", "2"}, {"MY_PORT", "3"}, {"INTERLINKURL", "http://env"}}))
                  .ok());
  EXPECT_EQ(s.port, 3);  // the later variable wins
  EXPECT_EQ(s.url, "http://env");
  Settings f;
  ASSERT_TRUE(Load("Port: 1\n", &f, {}, Env({{"PORT", "2"}}), {{"Port", "4"}}).ok());
  EXPECT_EQ(f.port, 4);
  Settings bad;
  EXPECT_FALSE(Load("", &bad, {}, Env({}), {{"NoSuchKey", "4"}}).ok());
}

TEST(ConfigSchema, UnknownKeyIsAnErrorWithTheClosestKeyOwnOrForeign) {
  Settings s;
  Status st = Load("Prot: 1\n", &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("f.yaml: key 'Prot': unknown key (did you mean 'Port'?)"),
            std::string::npos)
      << st.message();
  std::vector<KeyInfo> foreign = {{"NodeName", {"NodeNameAlias"}, {}, "string", "", "", {}}};
  st = Load("NodName: x\n", &s, foreign);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("did you mean 'NodeName'"), std::string::npos) << st.message();
  st = Load("Zzzzzzzzzzzz: x\n", &s, foreign);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("did you mean"), std::string::npos) << st.message();
}

TEST(ConfigSchema, ForeignKeysAndTheirAliasesAreIgnored) {
  Settings s;
  std::vector<KeyInfo> foreign = {{"NodeName", {"NodeNameAlias"}, {}, "string", "", "", {}}};
  EXPECT_TRUE(Load("NodeName: a\nNodeNameAlias: b\nPort: 5\n", &s, foreign).ok());
  EXPECT_EQ(s.port, 5);
}

TEST(ConfigSchema, BadValuesNameTheKeyOrVariable) {
  Settings s;
  Status st = Load("Port: 70000\n", &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("key 'Port'"), std::string::npos) << st.message();
  st = Load("Verbose: maybe\n", &s);
  EXPECT_NE(st.message().find("key 'Verbose'"), std::string::npos) << st.message();
  st = Load("", &s, {}, Env({{"MY_PORT", "x"}}));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("environment: key 'MY_PORT'"), std::string::npos) << st.message();
  EXPECT_FALSE(Load("[1, 2]\n", &s).ok());
  EXPECT_FALSE(Load("a: [\n", &s).ok());
  EXPECT_FALSE(Load("Port: [1]\n", &s).ok());
}

TEST(ConfigSchema, EditDistanceIsCaseInsensitive) {
  EXPECT_EQ(EditDistance("sidecarport", "SidecarPort"), 0u);
  EXPECT_EQ(EditDistance("SidecarPrt", "SidecarPort"), 1u);
  EXPECT_EQ(Closest("SidecarPrt", {"SidecarURL", "SidecarPort"}), "SidecarPort");
  EXPECT_EQ(Closest("Completely", {"SidecarURL"}), "");
}

TEST(ConfigSchema, DumpListsEveryKeyWithItsVariables) {
  std::string d = DumpKeys({{"test", InfoOf(Table())}});
  EXPECT_NE(d.find("test\tInterlinkURL\tInterlinkAddress\tINTERLINKURL\tstring\t"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("test\tPort\t\tPORT,MY_PORT\tport\t3000\t"), std::string::npos) << d;
}

}  // namespace
}  // namespace il::config

// StreamGate against real protocol servers on loopback: a plugin that does not advertise
// the streaming extension (as every upstream plugin) is refused with kUnimplemented
// before any upgrade; one that advertises it passes.
#include "interlink/stream_gate.h"

#include <gtest/gtest.h>

#include "protocol/server.h"

namespace il::interlink {
namespace {

class PingOnly : public api::Backend {
 public:
  Result<api::CreateResult> Create(const api::CallContext&, const api::RetrievedPodData&) override {
    return Internal("unused");
  }
  Status Delete(const api::CallContext&, const boost::json::value&) override {
    return Status::Ok();
  }
  Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext&,
                                                const std::vector<boost::json::value>&) override {
    return std::vector<api::PodStatus>{};
  }
  Status GetLogs(const api::CallContext&, const api::LogRequest&, api::LogSink&) override {
    return Status::Ok();
  }
  Result<api::PingResponse> Ping(const api::CallContext&) override {
    api::PingResponse p;
    p.status = "ok";
    return p;
  }
};

class NoOpStreams : public api::StreamBackend {
 public:
  Result<int> Exec(const api::CallContext&, const api::ExecRequest&, api::Channels&) override {
    return 0;
  }
  Status PortForward(const api::CallContext&, const api::PortForwardRequest&,
                     api::Channels&) override {
    return Status::Ok();
  }
};

std::unique_ptr<protocol::Client> ClientFor(const protocol::Server& s) {
  protocol::ClientOptions co;
  co.url = s.url();
  auto c = protocol::Client::Create(co);
  EXPECT_TRUE(c.ok());
  return std::move(*c);
}

protocol::ServerOptions PluginOptions() {
  protocol::ServerOptions so;
  so.listen = "http://127.0.0.1:0";
  so.hop = protocol::Hop::kPlugin;
  return so;
}

TEST(StreamGate, PluginWithoutTheExtensionIsUnimplemented) {
  PingOnly backend;
  protocol::Server plugin(PluginOptions(), backend);
  ASSERT_TRUE(plugin.Start().ok());
  auto client = ClientFor(plugin);
  StreamGate gate(*client);
  Status s = gate.Check({}, "exec");
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("does not advertise interlink-cpp.io/streaming v1"), std::string::npos)
      << s.message();
  plugin.Stop();
}

TEST(StreamGate, PluginThatAdvertisesItPasses) {
  PingOnly backend;
  NoOpStreams streams;
  auto so = PluginOptions();
  so.streams = &streams;
  so.streaming_operations = {"exec", "attach"};
  protocol::Server plugin(so, backend);
  ASSERT_TRUE(plugin.Start().ok());
  auto client = ClientFor(plugin);
  StreamGate gate(*client);
  EXPECT_TRUE(gate.Check({}, "exec").ok());
  EXPECT_EQ(gate.Check({}, "portforward").code(), StatusCode::kUnimplemented);
  plugin.Stop();
}

TEST(StreamGate, UnreachablePluginIsUnavailable) {
  protocol::ClientOptions co;
  co.url = "http://127.0.0.1:1";
  auto client = protocol::Client::Create(co);
  ASSERT_TRUE(client.ok());
  StreamGate gate(**client);
  EXPECT_EQ(gate.Check({}, "exec").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace il::interlink

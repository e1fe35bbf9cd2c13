#include "sidecars/docker/sandbox_image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sidecars/docker/fake_docker_engine.h"

namespace il::docker {
namespace {

TEST(TarOneFile, IsAValidUstarArchive) {
  std::string tar = TarOneFile("pause", "hello");
  ASSERT_EQ(tar.size(), 512u + 512u + 1024u);
  EXPECT_EQ(tar.substr(0, 5), "pause");
  EXPECT_EQ(tar.substr(257, 5), "ustar");
  EXPECT_EQ(tar.substr(512, 5), "hello");
  // tar(1) agrees.
  std::string path =
      std::filesystem::temp_directory_path() / ("il-tar-" + std::to_string(::getpid()) + ".tar");
  std::ofstream(path, std::ios::binary) << tar;
  FILE* p = popen(("tar -tvf " + path + " 2>&1").c_str(), "r");
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  pclose(p);
  std::string listing(buf, n);
  std::filesystem::remove(path);
  EXPECT_NE(listing.find("-rwxr-xr-x"), std::string::npos) << listing;
  EXPECT_NE(listing.find("pause"), std::string::npos) << listing;
}

TEST(EnsureSandboxImage, ImportsOnlyWhenMissing) {
  FakeDockerEngine engine;
  DockerEndpoint ep;
  ep.url = engine.url();
  auto api = DockerApi::Create(ep);
  ASSERT_TRUE(api.ok());
  engine.AddImage("img:1");
  ASSERT_TRUE(EnsureSandboxImage(**api, "img:1", "/nonexistent").ok());  // inspect succeeded
  EXPECT_EQ(engine.verbs(), std::vector<std::string>{"image"});

  std::string bin =
      std::filesystem::temp_directory_path() / ("il-pause-" + std::to_string(::getpid()));
  std::ofstream(bin) << "BINARY";
  ASSERT_TRUE(EnsureSandboxImage(**api, "il/pause:2", bin).ok());
  EXPECT_EQ(engine.calls_with("import"),
            (std::vector<std::vector<std::string>>{{"docker", "import", "il/pause:2"}}));
  EXPECT_EQ(EnsureSandboxImage(**api, "other:1", "/nonexistent").code(),
            StatusCode::kFailedPrecondition);
  engine.SetDown(true);
  EXPECT_EQ(EnsureSandboxImage(**api, "down:1", bin).code(), StatusCode::kUnavailable);
  std::filesystem::remove(bin);
}

}  // namespace
}  // namespace il::docker

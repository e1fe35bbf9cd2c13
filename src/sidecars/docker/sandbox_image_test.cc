#include "sidecars/docker/sandbox_image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/fake_command_runner.h"

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
  FakeCommandRunner fake;
  DockerCli cli(fake, "docker");
  ASSERT_TRUE(EnsureSandboxImage(cli, "img:1", "/nonexistent").ok());  // inspect succeeded
  ASSERT_EQ(fake.calls().size(), 1u);
  EXPECT_EQ(fake.calls()[0][1], "image");

  std::string bin =
      std::filesystem::temp_directory_path() / ("il-pause-" + std::to_string(::getpid()));
  std::ofstream(bin) << "BINARY";
  FakeCommandRunner missing;
  missing.SetResponder(
      [](const std::vector<std::string>& a, const CommandOptions&) -> Result<CommandResult> {
        CommandResult r;
        r.exit_code = a[1] == "image" ? 1 : 0;
        r.err = a[1] == "image" ? "Error: No such image: img:1" : "";
        return r;
      });
  DockerCli cli2(missing, "docker");
  ASSERT_TRUE(EnsureSandboxImage(cli2, "img:1", bin).ok());
  ASSERT_EQ(missing.calls().size(), 2u);
  EXPECT_EQ(missing.calls()[1],
            (std::vector<std::string>{"docker", "import", "--change=ENTRYPOINT [\"/pause\"]",
                                      "--message=docker-sd sandbox (il-pause)", "-", "img:1"}));
  EXPECT_EQ(missing.stdins()[1], TarOneFile("pause", "BINARY"));
  EXPECT_EQ(EnsureSandboxImage(cli2, "img:1", "/nonexistent").code(),
            StatusCode::kFailedPrecondition);
  std::filesystem::remove(bin);
}

}  // namespace
}  // namespace il::docker

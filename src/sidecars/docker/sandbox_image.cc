#include "sidecars/docker/sandbox_image.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace il::docker {

namespace {

void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

}  // namespace

std::string TarOneFile(const std::string& name, const std::string& content) {
  char h[512];
  std::memset(h, 0, sizeof(h));
  std::snprintf(h, 100, "%s", name.c_str());
  Octal(h + 100, 8, 0755);             // mode
  Octal(h + 108, 8, 0);                // uid
  Octal(h + 116, 8, 0);                // gid
  Octal(h + 124, 12, content.size());  // size
  Octal(h + 136, 12, 0);               // mtime
  std::memset(h + 148, ' ', 8);        // checksum placeholder
  h[156] = '0';                        // regular file
  std::memcpy(h + 257, "ustar", 6);
  h[263] = '0';  // version "00", not NUL-terminated
  h[264] = '0';
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  std::string tar(h, sizeof(h));
  tar += content;
  tar.append((512 - content.size() % 512) % 512, '\0');
  tar.append(1024, '\0');
  return tar;
}

Status EnsureSandboxImage(DockerCli& cli, const std::string& image,
                          const std::string& pause_binary) {
  IL_ASSIGN_OR_RETURN(CommandResult have, cli.Run({"image", "inspect", "--format={{.Id}}", image}));
  if (have.exit_code == 0) return Status::Ok();
  if (DaemonDown(have)) return Unavailable("docker daemon unavailable: " + CleanStderr(have.err));
  std::ifstream in(pause_binary, std::ios::binary);
  if (!in) {
    return FailedPrecondition("cannot read the sandbox program " + pause_binary +
                              " (il-pause must be installed beside docker-sd)");
  }
  std::stringstream bin;
  bin << in.rdbuf();
  std::string tar = TarOneFile("pause", bin.str());
  IL_ASSIGN_OR_RETURN(CommandResult r,
                      cli.Run({"import", "--change=ENTRYPOINT [\"/pause\"]",
                               "--message=docker-sd sandbox (il-pause)", "-", image},
                              std::chrono::seconds(120), tar));
  if (r.exit_code != 0) {
    return Status(StatusCode::kBadGateway,
                  "docker import of " + image + " failed: " + CleanStderr(r.err));
  }
  return Status::Ok();
}

}  // namespace il::docker

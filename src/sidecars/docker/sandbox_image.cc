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

Status EnsureSandboxImage(DockerApi& api, const std::string& image,
                          const std::string& pause_binary) {
  auto have = api.InspectImage(image);
  if (have.ok()) return Status::Ok();
  if (have.status().code() != StatusCode::kNotFound) return have.status();
  std::ifstream in(pause_binary, std::ios::binary);
  if (!in) {
    return FailedPrecondition("cannot read the sandbox program " + pause_binary +
                              " (il-pause must be installed beside docker-sd)");
  }
  std::stringstream bin;
  bin << in.rdbuf();
  size_t colon = image.rfind(':');
  bool tagged = colon != std::string::npos && image.find('/', colon) == std::string::npos;
  std::string repo = tagged ? image.substr(0, colon) : image;
  std::string tag = tagged ? image.substr(colon + 1) : "latest";
  Status s =
      api.ImportImage(TarOneFile("pause", bin.str()), repo, tag, {"ENTRYPOINT [\"/pause\"]"});
  if (s.ok() || s.code() == StatusCode::kUnavailable) return s;
  return Status(StatusCode::kBadGateway, "import of " + image + " failed: " + s.message());
}

}  // namespace il::docker

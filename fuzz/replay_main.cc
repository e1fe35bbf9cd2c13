// Replay driver for fuzz targets built without libFuzzer (the default gcc build).
//
// Usage: fuzz_<name> PATH...   where each PATH is a file or a directory of files (not
// recursive). Every file is fed to LLVMFuzzerTestOneInput whole and then, when it is
// small, once per proper prefix, so the hand-written seeds also exercise truncated input.
// Exit 0 when every input was run; a crash or a failed property check aborts, which
// CTest reports as a failure. With clang the real libFuzzer main replaces this file.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kMaxPrefixReplay = 4096;  // bytes; keeps the replay well under a second

bool RunFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  // A heap copy of exactly the right size, so ASan builds catch reads past the end.
  auto run = [&](size_t n) {
    std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), n);
  };
  run(bytes.size());
  if (bytes.size() <= kMaxPrefixReplay) {
    for (size_t n = 0; n < bytes.size(); ++n) run(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  size_t files = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> entries;
      for (const auto& e : std::filesystem::directory_iterator(arg, ec)) {
        if (e.is_regular_file()) entries.push_back(e.path());
      }
      std::sort(entries.begin(), entries.end());  // deterministic order
      for (const auto& p : entries) {
        ok = RunFile(p) && ok;
        ++files;
      }
    } else {
      ok = RunFile(arg) && ok;
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "replay: no input files\n");
    return 1;
  }
  std::printf("replay: %zu file(s) ran without a crash\n", files);
  return ok ? 0 : 1;
}

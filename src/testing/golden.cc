#include "testing/golden.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace il::testing {

bool UpdatingGoldens() {
  const char* v = std::getenv("IL_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

::testing::AssertionResult MatchesGolden(const std::filesystem::path& golden,
                                         const std::string& actual) {
  if (UpdatingGoldens()) {
    std::ofstream out(golden, std::ios::binary);
    out << actual;
    if (!out) return ::testing::AssertionFailure() << "cannot write " << golden;
    return ::testing::AssertionSuccess();
  }
  if (!std::filesystem::exists(golden)) {
    return ::testing::AssertionFailure() << golden << " missing; run with IL_UPDATE_GOLDEN=1";
  }
  const std::string want = ReadFile(golden);
  if (want == actual) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "golden " << golden << " differs; if intended, regenerate with IL_UPDATE_GOLDEN=1\n"
         << "--- want\n"
         << want << "\n--- got\n"
         << actual;
}

}  // namespace il::testing

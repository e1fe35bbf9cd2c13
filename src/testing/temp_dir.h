// TempDir: a fresh private directory for one test (mkdtemp under $TMPDIR or /tmp),
// removed with everything in it when the TempDir goes.
//
// Thread-safety: a TempDir is used by one test; distinct ones never collide.
#pragma once

#include <filesystem>
#include <string>

namespace il::testing {

class TempDir {
 public:
  // `prefix` names the directory (il-<prefix>-XXXXXX) so a leftover says whose it is.
  explicit TempDir(const std::string& prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string (what most APIs under test take).
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace il::testing

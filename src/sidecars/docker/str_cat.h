// Cat: joins strings in one allocation (messages and paths built inside loops).
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace il::docker {

template <typename... T>
std::string Cat(const T&... parts) {
  std::string s;
  s.reserve((std::string_view(parts).size() + ... + 0));
  (s.append(std::string_view(parts)), ...);
  return s;
}

}  // namespace il::docker

// Helpers shared by the fuzz targets.
//
// FUZZ_CHECK states a property that must hold for every input (e.g. "what we serialise
// parses back"). A violation prints the condition and aborts, which libFuzzer records as
// a crash with a reproducer, and the replay tests report as a failure. Input errors are
// never checked this way: returning an error for bad input is the expected behaviour.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace il::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return size == 0 ? std::string_view()
                   : std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits the input at the first newline: (first line, rest). Lets one input carry two
// arguments, e.g. a URL and a default port.
inline std::pair<std::string_view, std::string_view> SplitFirstLine(std::string_view s) {
  auto nl = s.find('\n');
  if (nl == std::string_view::npos) return {s, {}};
  return {s.substr(0, nl), s.substr(nl + 1)};
}

}  // namespace il::fuzz

// Process plumbing shared by every daemon's main().
#pragma once

#include <string>
#include <vector>

namespace il {

// Blocks SIGINT/SIGTERM in the calling thread (call first in main, before threads start)
// and ignores SIGPIPE.
void BlockShutdownSignals();
// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForShutdownSignal();
// Rewrites Go-style single-dash long flags ("-verbose", "-interlinkconfigpath=x") to
// "--verbose" so upstream command lines keep working with CLI11.
std::vector<std::string> NormalizeGoFlags(int argc, char** argv);

}  // namespace il

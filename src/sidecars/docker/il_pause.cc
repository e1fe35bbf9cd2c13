// il-pause: the process of a pod's sandbox container. It holds the pod's namespaces and
// waits; SIGTERM/SIGINT end it at once, and it reaps any orphan it inherits as PID 1.
// Linked statically so it runs in an image that holds nothing else.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {
void Quit(int) { _exit(0); }
void Reap(int) {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}
}  // namespace

int main() {
  struct sigaction sa = {};
  sa.sa_handler = Quit;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = Reap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &sa, nullptr);
  for (;;) pause();
}

// ForwardTcp: a port-forward's data channel copied to and from a TCP connection, for
// sidecars that reach the pod's port over the network (docker-sd: the sandbox's IP;
// slurm-sd: the job's node; mock-sd: loopback).
//
// Channel 0 goes to the socket; (255, [0]) half-closes the socket's sending side; the
// socket's bytes come back on channel 0. Returns when the pod side ended (after the
// caller's side, or by itself), or an error when the connection cannot be made.
//
// Thread-safety: one call per Channels.
#pragma once

#include <chrono>
#include <string>

#include "api/stream_backend.h"
#include "core/status.h"

namespace il::stream {

Status ForwardTcp(const std::string& host, uint16_t port, api::Channels& io,
                  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));
// The same over a connected socket (made elsewhere, e.g. in a pod's network namespace);
// takes ownership of `fd`.
Status ForwardSocket(int fd, api::Channels& io);

}  // namespace il::stream

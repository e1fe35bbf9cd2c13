// GrpcHealthCheck: one grpc.health.v1.Health/Check call, as the kubelet's gRPC probe makes it
// (plaintext HTTP/2 with prior knowledge, "h2c"), over a socket that is already connected
// (netns_dial.h dials into the pod's network namespace). No gRPC or HTTP/2 library: this is
// the smallest client that does the job. It sends the client preface, an empty SETTINGS,
// one HEADERS frame (HPACK literals without indexing and without Huffman) and one DATA
// frame (END_STREAM) carrying HealthCheckRequest{service}; then it reads frames until stream
// 1 ends, ACKing SETTINGS and answering PING. It never decodes HPACK for the verdict: the
// answer is SERVING iff the DATA holds a HealthCheckResponse whose field 1 is 1. The
// grpc-status/grpc-message trailers are read only when sent as plain literals, for the text.
//
// The peer is untrusted: frames larger than 16 KiB (the default SETTINGS_MAX_FRAME_SIZE), more
// than 256 KiB in total, malformed frames and early EOF are failures; `deadline` bounds the
// whole exchange.
//
// Thread-safety: pure functions; GrpcHealthCheck uses only its own socket.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace il::docker {

// Ok when the service is SERVING. Otherwise a failure whose message is the kubelet's text,
// e.g. `service unhealthy (responded with "NOT_SERVING")`, `timeout: health rpc did not
// complete within 1s` (code kDeadlineExceeded), `error: health rpc probe failed: ...`.
// `timeout` is used only in the timeout message (the probe's timeoutSeconds).
Status GrpcHealthCheck(int fd, const std::string& authority, const std::string& service,
                       std::chrono::steady_clock::time_point deadline,
                       std::chrono::milliseconds timeout);

// Every byte the client sends before reading: preface, SETTINGS, HEADERS, DATA. Pure.
std::string GrpcHealthRequest(const std::string& authority, const std::string& service);

// A duration as Go's time.Duration prints it ("1s", "1.5s", "250ms").
std::string GoDuration(std::chrono::milliseconds d);

}  // namespace il::docker

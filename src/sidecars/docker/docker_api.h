// DockerApi: the Docker Engine API (v1.41, Docker 20.10) over il::http::HttpClient, what
// docker-sd talks to dockerd with instead of running the `docker` CLI.
//
// The endpoint is unix:///var/run/docker.sock unless docker-sd's DockerHost setting or
// DOCKER_HOST says otherwise (unix:///path or tcp://host:port; TLS from DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH, as the docker CLI reads them). The first call negotiates the version with
// GET /version: the lower of the server's ApiVersion and the newest this client implements;
// a server below 1.41 is refused (kFailedPrecondition with both versions in the message).
//
// Errors: dockerd unreachable (no socket, refused, reset) is kUnavailable, as the CLI's
// "Cannot connect to the Docker daemon" was; an API error reply becomes a Status carrying
// Docker's own `message` (ApiStatus: 400 kInvalidArgument, 404 kNotFound, 409
// kFailedPrecondition, or kAlreadyExists for a create whose name is taken, 503 kUnavailable,
// other 5xx kInternal).
//
// Values (names, commands, env) travel as JSON strings or percent-encoded path segments and
// query values, never through a shell.
//
// Thread-safety: all methods are thread-safe (HttpClient pools keep-alive connections; each
// call takes one). Streaming calls (Events, Logs with follow, exec/attach streams) block the
// calling thread until the stream ends, the callback returns false or `cancelled()` is true.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "core/byte_stream.h"
#include "core/http.h"
#include "core/http_client.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il::docker {

namespace json = boost::json;

// The newest and the oldest Engine API version this client speaks.
inline constexpr std::string_view kDockerApiNewest = "1.41";
inline constexpr std::string_view kDockerApiOldest = "1.41";

// Where dockerd is and how to reach it.
struct DockerEndpoint {
  std::string url = "unix:///var/run/docker.sock";  // unix:///p, http://h:p, https://h:p
  http::TlsOptions tls;                             // https only
  std::string pinned_version;                       // DOCKER_API_VERSION: no negotiation
};

// Reads the endpoint the docker CLI would use: `configured` (docker-sd's DockerHost setting)
// wins over DOCKER_HOST; tcp:// becomes https:// when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH
// is set, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (default ~/.docker); the
// server certificate is verified only when DOCKER_TLS_VERIFY is non-empty.
using EnvLookup = std::function<std::string(const char* name)>;  // "" when unset
Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view configured, const EnvLookup& env);
EnvLookup ProcessEnv();

// A non-2xx reply as a Status with Docker's message (`what` prefixes it).
Status ApiStatus(int http_status, std::string_view body, std::string_view what);
// "1.41" < "1.9"? No: compares numerically, major then minor. Unparsable = 0.0.
int CompareApiVersions(std::string_view a, std::string_view b);

// Splits Docker's multiplexed stream (8-byte headers: stream type, 3 zero bytes, big-endian
// payload length) into (stream, bytes) pieces. Frames may arrive cut anywhere; a payload is
// passed on as it arrives, not buffered whole. Stream 0 (stdin echo) is reported as 1.
class StreamDemuxer {
 public:
  using Sink = std::function<bool(int stream, std::string_view data)>;  // false: stop
  // False when the sink asked to stop.
  bool Feed(std::string_view data, const Sink& sink);

 private:
  std::string header_;
  size_t remaining_ = 0;
  int stream_ = 1;
};

struct LogsOptions {
  bool stdout_stream = true;
  bool stderr_stream = true;
  bool follow = false;
  bool timestamps = false;
  std::string tail;   // "" = all
  std::string since;  // unix seconds[.nanos], "" = from the start
  bool tty = false;   // the container has a TTY: raw bytes, no frames
};

struct ExecConfig {
  std::vector<std::string> cmd;  // required, non-empty
  bool tty = false;
  bool attach_stdin = false;
  bool attach_stdout = true;
  bool attach_stderr = true;
  std::vector<std::string> env;  // "K=V"
  std::string user, working_dir;
};

struct ExecState {
  bool running = false;
  std::optional<int> exit_code;  // null while running
  int pid = 0;
};

// The outcome of RunExec: the exit code and the (capped) output.
struct ExecOutput {
  int exit_code = 0;
  bool timed_out = false;
  std::string out, err;
};

struct AttachOptions {
  bool stdin_stream = false, stdout_stream = true, stderr_stream = true;
  bool logs = false;  // replay earlier output first
};

class DockerApi {
 public:
  static Result<std::unique_ptr<DockerApi>> Create(DockerEndpoint endpoint);
  ~DockerApi();

  const DockerEndpoint& endpoint() const { return endpoint_; }
  // The negotiated version ("1.41"), negotiating first when needed.
  Result<std::string> Version();

  // GET /version, GET /info.
  Result<json::value> ServerVersion();
  Result<json::value> Info();

  // Containers. Ids may be names. Create: kAlreadyExists when the name is taken, kNotFound
  // when the image is missing. Start: 304 (already running) is OK. Stop: 304 is OK.
  Result<std::string> CreateContainer(const std::string& name, const json::object& body);
  Status StartContainer(const std::string& id);
  Result<json::value> InspectContainer(const std::string& id);
  Status StopContainer(const std::string& id, int64_t timeout_seconds);
  Status KillContainer(const std::string& id, const std::string& signal = "KILL");
  // DELETE ?force=1&v=1 (running containers are killed, anonymous volumes removed).
  Status RemoveContainer(const std::string& id, bool force = true, bool volumes = true);
  Status ResizeContainer(const std::string& id, int rows, int cols);
  // GET /containers/json?all=1&filters=...; filters e.g. {"label": ["k=v"]}.
  Result<json::array> ListContainers(const json::object& filters, bool all = true);

  // GET /events with `filters`; one parsed object per event. Blocks until the stream ends
  // (an error status), on_event returns false or cancelled() (then OK).
  Status Events(const json::object& filters,
                const std::function<bool(const json::value&)>& on_event,
                const std::function<bool()>& cancelled, const std::string& since = "");

  // GET /containers/{id}/logs, demultiplexed unless options.tty.
  Status Logs(const std::string& id, const LogsOptions& options, const StreamDemuxer::Sink& sink,
              const std::function<bool()>& cancelled = {});

  // Images. Pull: POST /images/create?fromImage=&tag= (a missing tag is "latest"); every
  // progress object goes to `progress`; an error object in the stream fails the pull.
  Result<json::value> InspectImage(const std::string& name);
  Status PullImage(const std::string& reference,
                   const std::function<void(const json::value&)>& progress);
  // POST /images/create?fromSrc=-&repo=&tag=&changes=... with a tar body.
  Status ImportImage(std::string tar, const std::string& repo, const std::string& tag,
                     const std::vector<std::string>& changes);

  // Exec: create, start (hijacked: the stream carries frames unless tty), resize, inspect.
  Result<std::string> CreateExec(const std::string& container, const ExecConfig& config);
  Result<std::unique_ptr<http::ByteStream>> StartExec(const std::string& exec_id, bool tty);
  Status ResizeExec(const std::string& exec_id, int rows, int cols);
  Result<ExecState> InspectExec(const std::string& exec_id);
  // Create + start + read all output (each stream capped at `max_output` bytes) + exit code.
  // On timeout the stream is closed and timed_out set (Docker cannot kill an exec process).
  Result<ExecOutput> RunExec(const std::string& container, const ExecConfig& config,
                             std::chrono::milliseconds timeout, size_t max_output = 1 << 20);

  // POST /containers/{id}/attach (hijacked).
  Result<std::unique_ptr<http::ByteStream>> Attach(const std::string& container,
                                                   const AttachOptions& options);

 private:
  DockerApi(DockerEndpoint endpoint, std::unique_ptr<http::HttpClient> client);
  Result<std::string> Prefix();
  // One request with the version prefix; a JSON body gets its Content-Type.
  Result<http::Response> Call(const std::string& method, const std::string& path,
                              std::string body = "",
                              std::optional<std::chrono::milliseconds> timeout = {});
  Result<std::unique_ptr<http::ByteStream>> Hijack(const std::string& path, std::string body);
  Status StreamJsonLines(const std::string& method, const std::string& path, http::Headers headers,
                         std::string body, const std::function<bool(const json::value&)>& on_object,
                         const std::function<bool()>& cancelled, std::string_view what);

  const DockerEndpoint endpoint_;
  std::unique_ptr<http::HttpClient> client_;
  Mutex version_mu_;
  std::string version_ IL_GUARDED_BY(version_mu_);  // empty until negotiated
};

}  // namespace il::docker

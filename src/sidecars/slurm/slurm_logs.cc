// SlurmBackend::GetLogs: container logs from the files the job script writes.
#include <sys/stat.h>

#include <thread>

#include "sidecars/slurm/job_script.h"
#include "sidecars/slurm/log_reader.h"
#include "sidecars/slurm/slurm_backend.h"

namespace il::slurm {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Writes lines, honouring the byte limit across calls; false when the reader left or
// the limit is reached.
class LimitedWriter {
 public:
  LimitedWriter(api::LogSink& sink, const api::ContainerLogOpts& o) : sink_(sink), opts_(o) {
    if (o.limit_bytes > 0) left_ = o.limit_bytes;
  }
  bool Write(std::string text) {
    if (text.empty()) return true;
    if (left_ >= 0 && static_cast<int64_t>(text.size()) > left_)
      text.resize(static_cast<size_t>(left_));
    if (left_ >= 0) left_ -= static_cast<int64_t>(text.size());
    if (!text.empty() && !sink_.Write(text)) return false;
    return left_ != 0;
  }
  bool WriteLines(const std::vector<api::LogLine>& lines) {
    std::string chunk;
    for (const auto& l : lines) chunk += api::FormatLogLine(l, opts_.timestamps);
    return Write(std::move(chunk));
  }

 private:
  api::LogSink& sink_;
  const api::ContainerLogOpts& opts_;
  int64_t left_ = -1;  // -1: no limit
};

}  // namespace

Status SlurmBackend::GetLogs(const api::CallContext&, const api::LogRequest& req,
                             api::LogSink& sink) {
  PodRecord rec;
  {
    std::lock_guard l(mu_);
    auto it = pods_.find(req.pod_uid);
    if (it == pods_.end())
      return NotFound("pod " + req.ns + "/" + req.pod_name + " uid " + req.pod_uid + " is unknown");
    rec = it->second;
  }
  const ContainerRef* c = nullptr;
  int apps = 0;
  for (const auto& x : rec.containers) {
    if (!x.init) ++apps;
    if (x.name == req.container || (req.container.empty() && !x.init && apps == 1)) c = &x;
  }
  if (req.container.empty() && apps != 1) {
    return InvalidArgument("pod " + rec.ns + "/" + rec.name + " has several containers: name one");
  }
  if (!c) return NotFound("pod " + rec.ns + "/" + rec.name + " has no container " + req.container);
  const std::string base = rec.dir + "/" + ContainerKind(c->init) + "-" + c->name;
  LogTail out(base + ".out"), err(base + ".err");
  const auto now = opt_.now();
  bool finished = Exists(base + ".status");
  auto lines = MergeLogLines(out.Read(finished), err.Read(finished));
  LimitedWriter w(sink, req.opts);
  if (!w.Write(api::RenderLogs(lines, req.opts, now)) || !req.opts.follow) return Status::Ok();

  // Follow: poll the files until the container ends, the job ends without it, the pod
  // is deleted, or the reader goes away.
  auto last_refresh = std::chrono::steady_clock::now();
  while (!finished) {
    std::this_thread::sleep_for(opt_.log_poll);
    if (sink.Gone()) return Status::Ok();
    finished = Exists(base + ".status");
    if (std::chrono::steady_clock::now() - last_refresh > std::chrono::seconds(5)) {
      Refresh(false);
      last_refresh = std::chrono::steady_clock::now();
    }
    {
      std::lock_guard l(mu_);
      auto it = pods_.find(req.pod_uid);
      if (it == pods_.end() || IsTerminal(it->second.job.state)) finished = true;
    }
    if (!w.WriteLines(MergeLogLines(out.Read(finished), err.Read(finished)))) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace il::slurm

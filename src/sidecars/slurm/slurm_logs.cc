// SlurmBackend::GetLogs: container logs from the files the job script writes.
#include <thread>

#include "sidecars/slurm/job_files.h"
#include "sidecars/slurm/job_script.h"
#include "sidecars/slurm/log_reader.h"
#include "sidecars/slurm/slurm_backend.h"

namespace il::slurm {
namespace {

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
    MutexLock l(mu_);
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
  // Every file is opened relative to the job directory, never through a symlink, and read
  // in bounded chunks (job_files.h): the job can write there.
  const std::string base = std::string(ContainerKind(c->init)) + "-" + c->name;
  LogTail out(rec.dir, base + ".out"), err(rec.dir, base + ".err");
  const auto now = opt_.now();
  bool finished = JobFileExists(rec.dir, base + ".status");
  LimitedWriter w(sink, req.opts);
  if (req.opts.tail > 0) {
    // Only the last lines matter: start near the end of each file, then keep the last
    // `tail` of the merged lines.
    out.StartAtTail(static_cast<size_t>(req.opts.tail));
    err.StartAtTail(static_cast<size_t>(req.opts.tail));
    auto lines =
        MergeLogLines(out.Read(finished, LogTail::kMaxTail), err.Read(finished, LogTail::kMaxTail));
    api::ContainerLogOpts o = req.opts;
    o.limit_bytes = 0;  // LimitedWriter counts bytes
    if (!w.Write(api::RenderLogs(lines, o, now))) return Status::Ok();
  }
  // Whatever is left (everything, without tail), a chunk at a time.
  api::ContainerLogOpts chunk_opts = req.opts;
  chunk_opts.tail = 0;
  chunk_opts.limit_bytes = 0;
  do {
    auto lines = MergeLogLines(out.Read(finished), err.Read(finished));
    if (!w.Write(api::RenderLogs(lines, chunk_opts, now))) return Status::Ok();
  } while (out.more() || err.more());
  if (!req.opts.follow) return Status::Ok();

  // Follow: poll the files until the container ends, the job ends without it, the pod
  // is deleted, or the reader goes away.
  auto last_refresh = std::chrono::steady_clock::now();
  while (!finished) {
    std::this_thread::sleep_for(opt_.log_poll);
    if (sink.Gone()) return Status::Ok();
    finished = JobFileExists(rec.dir, base + ".status");
    if (std::chrono::steady_clock::now() - last_refresh > std::chrono::seconds(5)) {
      Refresh(false);
      last_refresh = std::chrono::steady_clock::now();
    }
    {
      MutexLock l(mu_);
      auto it = pods_.find(req.pod_uid);
      if (it == pods_.end() || IsTerminal(it->second.job.state)) finished = true;
    }
    do {
      if (!w.WriteLines(MergeLogLines(out.Read(finished), err.Read(finished)))) return Status::Ok();
    } while (out.more() || err.more());
  }
  return Status::Ok();
}

}  // namespace il::slurm

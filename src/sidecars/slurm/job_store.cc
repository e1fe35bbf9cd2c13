#include "sidecars/slurm/job_store.h"

#include <boost/json.hpp>
#include <cmath>

namespace il::slurm {
namespace {

namespace json = boost::json;

double ToEpoch(const std::optional<TimePoint>& t) {
  if (!t) return -1;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

std::optional<TimePoint> FromEpoch(double d) {
  if (d < 0) return std::nullopt;
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(d)));
}

std::string ContainersJson(const std::vector<ContainerRef>& cs) {
  json::array a;
  for (const auto& c : cs)
    a.push_back(json::object{
        {"name", c.name}, {"image", c.image}, {"init", c.init}, {"watched", c.watched}});
  return json::serialize(a);
}

std::vector<ContainerRef> ParseContainers(const std::string& text) {
  std::vector<ContainerRef> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) continue;
    ContainerRef c;
    if (auto* n = e.as_object().if_contains("name"); n && n->is_string()) c.name = n->as_string();
    if (auto* i = e.as_object().if_contains("image"); i && i->is_string()) c.image = i->as_string();
    if (auto* b = e.as_object().if_contains("init"); b && b->is_bool()) c.init = b->as_bool();
    if (auto* w = e.as_object().if_contains("watched"); w && w->is_bool()) c.watched = w->as_bool();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  std::unique_ptr<JobStore> st(new JobStore());
  MutexLock l(st->mu_);
  // A private file (0600, created before SQLite opens it, never through a symlink), WAL.
  IL_ASSIGN_OR_RETURN(st->db_, sqlite::Database::Open(path));
  IL_RETURN_IF_ERROR(st->db_->Exec(
      "CREATE TABLE IF NOT EXISTS pods (uid TEXT PRIMARY KEY, namespace TEXT NOT NULL, "
      "name TEXT NOT NULL, dir TEXT NOT NULL, containers TEXT NOT NULL, job_id TEXT NOT NULL, "
      "state TEXT NOT NULL, reason TEXT NOT NULL, exit_code INTEGER NOT NULL, "
      "signal INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL, "
      "created REAL NOT NULL)"));
  l.Unlock();
  return st;
}

Status JobStore::Put(const PodRecord& r) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(
      auto put,
      db_->Prepare("INSERT OR REPLACE INTO pods (uid, namespace, name, dir, containers, job_id, "
                   "state, reason, exit_code, signal, start_time, end_time, created) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  return put.Bind(1, r.uid)
      .Bind(2, r.ns)
      .Bind(3, r.name)
      .Bind(4, r.dir)
      .Bind(5, ContainersJson(r.containers))
      .Bind(6, r.job.job_id)
      .Bind(7, JobStateName(r.job.state))
      .Bind(8, r.job.reason)
      .Bind(9, r.job.exit_code)
      .Bind(10, r.job.signal)
      .Bind(11, ToEpoch(r.job.start))
      .Bind(12, ToEpoch(r.job.end))
      .Bind(13, ToEpoch(r.created))
      .Run();
}

Status JobStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM pods WHERE uid = ?"));
  return del.Bind(1, uid).Run();
}

Result<std::vector<PodRecord>> JobStore::LoadAll() {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(
      auto all,
      db_->Prepare("SELECT uid, namespace, name, dir, containers, job_id, state, reason, "
                   "exit_code, signal, start_time, end_time, created FROM pods ORDER BY created"));
  std::vector<PodRecord> out;
  IL_RETURN_IF_ERROR(all.ForEachRow([&out](const sqlite::Statement::Row& row) {
    PodRecord r;
    r.uid = row.Text(0);
    r.ns = row.Text(1);
    r.name = row.Text(2);
    r.dir = row.Text(3);
    r.containers = ParseContainers(row.Text(4));
    r.job.job_id = row.Text(5);
    std::string state = row.Text(6);
    r.job.state = state == "LOST" ? JobState::kLost : ParseJobState(state);
    r.job.reason = row.Text(7);
    r.job.exit_code = static_cast<int>(row.Int64(8));
    r.job.signal = static_cast<int>(row.Int64(9));
    r.job.start = FromEpoch(row.Double(10));
    r.job.end = FromEpoch(row.Double(11));
    r.created = FromEpoch(row.Double(12)).value_or(TimePoint{});
    out.push_back(std::move(r));
  }));
  return out;
}

}  // namespace il::slurm

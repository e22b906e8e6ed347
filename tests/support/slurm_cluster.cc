#include "support/slurm_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "support/free_port.h"

namespace trainyard::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<SlurmCluster>& TheCluster() {
  static std::unique_ptr<SlurmCluster> cluster;
  return cluster;
}

std::string& TheReason() {
  static std::string reason = "the Slurm test environment was not registered";
  return reason;
}

std::string SearchPath() {
  const char* path = std::getenv("PATH");
  // The daemons live in sbin, which a non-login PATH may lack.
  return std::string(path && *path ? path : "/usr/bin:/bin") + ":/usr/sbin:/sbin";
}

std::string Tail(const fs::path& file, size_t bytes = 1500) {
  auto text = ReadFile(file);
  if (!text.ok()) return "(no " + file.filename().string() + ")";
  return text->size() > bytes ? text->substr(text->size() - bytes) : *text;
}

// Stops a daemon: SIGTERM, then SIGKILL if it is still there after `grace`; always reaped.
void StopDaemon(std::unique_ptr<Process>& daemon, std::chrono::milliseconds grace) {
  if (!daemon) return;
  daemon->Signal(SIGTERM);
  daemon->Wait(grace);  // kills and reaps it when it outlives the grace
  daemon.reset();
}

// Slurm's JWT plugin (slurm-wlm-jwt-plugin), where Debian and the usual builds install plugins.
std::optional<fs::path> FindJwtPlugin() {
  for (const char* dir :
       {"/usr/lib/x86_64-linux-gnu/slurm-wlm", "/usr/lib/aarch64-linux-gnu/slurm-wlm",
        "/usr/lib64/slurm", "/usr/lib/slurm", "/usr/local/lib/slurm"}) {
    if (fs::exists(fs::path(dir) / "auth_jwt.so")) return fs::path(dir) / "auth_jwt.so";
  }
  return std::nullopt;
}

}  // namespace

SlurmCluster* SlurmCluster::Get() {
  return TheCluster().get();
}

std::string SlurmCluster::UnavailableReason() {
  return TheReason();
}

std::unique_ptr<SlurmCluster> SlurmCluster::Start(std::string* why_not) {
  return Start(why_not, Options{});
}

std::unique_ptr<SlurmCluster> SlurmCluster::Start(std::string* why_not, const Options& options) {
  std::string search_path = SearchPath();
  std::map<std::string, fs::path> binaries;
  for (const char* name :
       {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"}) {
    std::optional<fs::path> found = FindExecutable(name, search_path);
    if (!found) {
      *why_not = std::string(name) +
                 " not found on PATH: install slurmctld slurmd slurm-client munge "
                 "(scripts/install-deps.sh)";
      return nullptr;
    }
    binaries[name] = *found;
  }
  // Optional: the REST transport's tests need both, the others neither.
  std::optional<fs::path> slurmrestd = FindExecutable("slurmrestd", search_path);
  std::optional<fs::path> jwt_plugin = FindJwtPlugin();
  if (::geteuid() != 0) {
    *why_not = "slurmd must run as root to start jobs, and this test runs as uid " +
               std::to_string(::geteuid());
    return nullptr;
  }

  std::unique_ptr<SlurmCluster> cluster(new SlurmCluster());
  const fs::path dir = cluster->dir_.path();
  // slurmd and the jobs run as root but other users' tools may read the logs.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  for (const char* sub : {"state", "spool", "log"}) fs::create_directories(dir / sub);

  // munge: a key of our own (1024 random bytes, readable by its owner only) and a socket here.
  {
    std::random_device random;
    std::string key(1024, '\0');
    for (char& byte : key) byte = static_cast<char>(random());
    std::ofstream(dir / "munge.key", std::ios::binary) << key;
    fs::permissions(dir / "munge.key", fs::perms::owner_read);
  }
  // slurmctld's HS256 key for JWTs: readable by SlurmUser (root here) only.
  if (slurmrestd && jwt_plugin) {
    std::random_device random;
    std::string key(32, '\0');
    for (char& byte : key) byte = static_cast<char>(random());
    cluster->jwt_key_file_ = dir / "jwt.key";
    std::ofstream(cluster->jwt_key_file_, std::ios::binary) << key;
    fs::permissions(cluster->jwt_key_file_, fs::perms::owner_read | fs::perms::owner_write);
  } else {
    cluster->rest_unavailable_reason_ =
        !slurmrestd ? "slurmrestd not found on PATH: install slurmrestd (scripts/install-deps.sh)"
                    : "Slurm's JWT plugin (auth_jwt.so) is not installed: install "
                      "slurm-wlm-jwt-plugin (scripts/install-deps.sh)";
  }
  const fs::path munge_socket = dir / "munge.socket";
  cluster->munged_ = std::make_unique<Process>(std::vector<std::string>{
      binaries["munged"].string(), "--foreground", "--force",
      "--key-file=" + (dir / "munge.key").string(), "--socket=" + munge_socket.string(),
      "--pid-file=" + (dir / "munged.pid").string(), "--log-file=" + (dir / "munged.log").string(),
      "--seed-file=" + (dir / "munge.seed").string()});
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !fs::exists(munge_socket) && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
  }
  if (!fs::exists(munge_socket)) {
    *why_not = "munged did not create its socket within 10 s: " + Tail(dir / "munged.log") +
               cluster->munged_->OutputSoFar();
    return nullptr;
  }

  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  cluster->node_name_ = host;
  cluster->cpus_ = std::max(1u, std::thread::hardware_concurrency());
  const int machine_cpus = cluster->cpus_;
  if (options.cpus > 0) cluster->cpus_ = options.cpus;
  // Three quarters of this machine's memory (slurmd drains a node configured with more than it
  // has), so that a job of SageMaker's ml.m5.large (8 GiB) fits where the machine has 11 GiB.
  const int64_t memory_mb =
      static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE) / (1024 * 1024);
  cluster->memory_mb_ = static_cast<int>(std::max<int64_t>(2048, memory_mb * 3 / 4));
  cluster->conf_file_ = dir / "slurm.conf";
  std::ostringstream conf;
  conf << "ClusterName=trainyard-test\n"
       << "SlurmctldHost=" << host << "\n"
       << "SlurmUser=root\n"
       << "AuthType=auth/munge\n"
       // cred_expire is also how long Slurm holds a requeued batch job before it runs again
       // (121 s by default): 15 s keeps a requeue test from waiting two minutes.
       << "AuthInfo=socket=" << munge_socket.string() << ",cred_expire=15\n"
       << (cluster->jwt_key_file_.empty() ? ""
                                          : "AuthAltTypes=auth/jwt\nAuthAltParameters=jwt_key=" +
                                                cluster->jwt_key_file_.string() + "\n")
       << "CryptoType=crypto/munge\n"
       << "MpiDefault=none\n"
       << "ProctrackType=proctrack/linuxproc\n"
       << "TaskPlugin=task/none\n"
       << "JobAcctGatherType=jobacct_gather/none\n"
       << "SelectType=select/cons_tres\n"
       << "SelectTypeParameters=CR_Core_Memory\n"
       // Without a default, CR_Core_Memory gives a job the whole node's memory: one job at a time.
       << "DefMemPerCPU=256\n"
       // A job asking more than the partition's nodes have is refused at submit, not left pending.
       << "EnforcePartLimits=ALL\n"
       // A cancelled job's SIGKILL follows its SIGTERM after this many seconds.
       << "KillWait=5\n"
       << "ReturnToService=2\n"
       << "StateSaveLocation=" << (dir / "state").string() << "\n"
       << "SlurmdSpoolDir=" << (dir / "spool").string() << "\n"
       << "SlurmctldPidFile=" << (dir / "slurmctld.pid").string() << "\n"
       << "SlurmdPidFile=" << (dir / "slurmd.pid").string() << "\n"
       << "SlurmctldLogFile=" << (dir / "log" / "slurmctld.log").string() << "\n"
       << "SlurmdLogFile=" << (dir / "log" / "slurmd.log").string() << "\n"
       << "SlurmctldPort=" << FreeLoopbackPort() << "\n"
       << "SlurmdPort=" << FreeLoopbackPort() << "\n"
       << "NodeName=" << host << " CPUs=" << cluster->cpus_ << " RealMemory=" << cluster->memory_mb_
       << " State=UNKNOWN\n"
       << "PartitionName=" << cluster->partition_
       << " Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n";
  if (cluster->cpus_ != machine_cpus) {
    conf << "SlurmdParameters=config_overrides\n";
  }
  for (const std::string& line : options.extra_config) conf << line << "\n";
  std::ofstream(cluster->conf_file_) << conf.str();

  std::map<std::string, std::string> environment = cluster->environment();
  // -i: a state dir of our own, always fresh; -D: in the foreground, our child until stopped.
  cluster->slurmctld_ = std::make_unique<Process>(
      std::vector<std::string>{binaries["slurmctld"].string(), "-D", "-i"}, environment);
  cluster->slurmd_ = std::make_unique<Process>(
      std::vector<std::string>{binaries["slurmd"].string(), "-D"}, environment);
  if (!cluster->WaitForIdleNode(30s, why_not)) return nullptr;
  if (!cluster->jwt_key_file_.empty() && !cluster->StartRest(*slurmrestd, why_not)) return nullptr;
  return cluster;
}

bool SlurmCluster::StartRest(const fs::path& slurmrestd, std::string* why_not) {
  const int port = FreeLoopbackPort();
  std::map<std::string, std::string> environment = this->environment();
  environment["SLURM_JWT"] = "daemon";  // slurmrestd passes each request's token through
  // -u/-g: slurmrestd refuses to run as root or SlurmUser.
  slurmrestd_ = std::make_unique<Process>(
      std::vector<std::string>{slurmrestd.string(), "-u", "nobody", "-g", "nogroup", "-a",
                               "rest_auth/jwt", "-s", "openapi/v0.0.38",
                               "127.0.0.1:" + std::to_string(port)},
      environment);
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline;) {
    if (AcceptsLoopbackConnections(port)) {
      rest_url_ = "http://127.0.0.1:" + std::to_string(port);
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  *why_not = "slurmrestd did not listen on 127.0.0.1:" + std::to_string(port) +
             " within 20 s: " + slurmrestd_->OutputSoFar() + "\n" + LogTails();
  return false;
}

std::map<std::string, std::string> SlurmCluster::environment() const {
  return {{"SLURM_CONF", conf_file_.string()}, {"PATH", SearchPath()}};
}

ProcessResult SlurmCluster::Run(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) const {
  return RunProcess(argv, environment(), timeout);
}

std::string SlurmCluster::LogTails() const {
  const fs::path dir = dir_.path();
  return "slurmctld.log: " + Tail(dir / "log" / "slurmctld.log") +
         "\nslurmd.log: " + Tail(dir / "log" / "slurmd.log") +
         "\nmunged.log: " + Tail(dir / "munged.log");
}

std::vector<pid_t> SlurmCluster::daemon_pids() const {
  std::vector<pid_t> pids;
  for (const auto* daemon : {&munged_, &slurmctld_, &slurmd_, &slurmrestd_}) {
    if (*daemon) pids.push_back((*daemon)->pid());
  }
  return pids;
}

bool SlurmCluster::WaitForIdleNode(std::chrono::seconds timeout, std::string* why_not) {
  std::string last;
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline;) {
    ProcessResult state = Run({"sinfo", "--noheader", "--nodes=" + node_name_, "--format=%t"}, 10s);
    last = state.output;
    if (state.exit_code == 0 && last.rfind("idle", 0) == 0) return true;
    std::this_thread::sleep_for(100ms);
  }
  *why_not = "the Slurm node did not become idle within " + std::to_string(timeout.count()) +
             " s (sinfo: " + last + ")\n" + LogTails();
  return false;
}

void SlurmCluster::Stop() {
  if (slurmctld_) {
    // Jobs run in slurmstepd processes that outlive slurmd: end them first, and wait for it.
    Run({"scancel", "--full", "--signal=KILL", "--user=root"}, 10s);
    for (auto deadline = std::chrono::steady_clock::now() + 15s;
         std::chrono::steady_clock::now() < deadline;) {
      ProcessResult left = Run(
          {"squeue", "--noheader", "--states=RUNNING,COMPLETING,SUSPENDED", "--format=%i"}, 10s);
      if (left.exit_code != 0 || left.output.empty()) break;
      std::this_thread::sleep_for(100ms);
    }
  }
  StopDaemon(slurmrestd_, 5s);
  StopDaemon(slurmd_, 10s);
  StopDaemon(slurmctld_, 10s);
  StopDaemon(munged_, 5s);
}

SlurmCluster::~SlurmCluster() {
  Stop();
}

void SlurmClusterEnvironment::SetUp() {
  std::string why_not;
  TheCluster() = SlurmCluster::Start(&why_not);
  TheReason() = why_not;
  if (!TheCluster()) std::cerr << "Slurm cluster unavailable: " << why_not << "\n";
}

void SlurmClusterEnvironment::TearDown() {
  TheCluster().reset();
}

}  // namespace trainyard::testing

#include "support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/environment.h"

namespace trainyard::testing {

Process::Process(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& extra_environment,
                 const std::string& working_directory) {
  char path[] = "/tmp/trainyard-test-output-XXXXXX";
  int output_fd = ::mkstemp(path);
  output_path_ = path;
  EnvironmentMap environment = ParseEnvironment(environ);
  for (const auto& [key, value] : extra_environment) environment[key] = value;
  std::vector<std::string> entries = FormatEnvironment(environment);
  std::vector<char*> argv_pointers, envp;
  for (const std::string& argument : argv)
    argv_pointers.push_back(const_cast<char*>(argument.c_str()));
  argv_pointers.push_back(nullptr);
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  started_ = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(output_fd, STDOUT_FILENO);
    ::dup2(output_fd, STDERR_FILENO);
    if (!working_directory.empty() && ::chdir(working_directory.c_str()) != 0) ::_exit(126);
    ::execvpe(argv_pointers[0], argv_pointers.data(), envp.data());
    ::_exit(127);
  }
  ::close(output_fd);
}

Process::~Process() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(output_path_.c_str());
}

void Process::Signal(int signal_number) {
  ::kill(pid_, signal_number);
}

ProcessResult Process::Wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  auto deadline = started_ + timeout;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  waited_ = true;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  if (status == -1) {
    result.exit_code = -1;
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  } else {
    result.exit_code = WEXITSTATUS(status);
  }
  std::ifstream in(output_path_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  result.output = buffer.str();
  return result;
}

std::string Process::OutputSoFar() const {
  std::ifstream in(output_path_);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace trainyard::testing

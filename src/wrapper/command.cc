#include "wrapper/command.h"

#include <filesystem>

#include "core/command_line.h"
#include "core/hyperparameters.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;

namespace {

// The toolkit runs a script "from /opt/ml/code": .py with python3, .sh with sh, anything else as
// an executable.
Result<ResolvedCommand> ScriptCommand(const std::string& program, const contract::MlRoot& root) {
  fs::path script = fs::path(program).is_absolute() ? fs::path(program) : root.code_dir() / program;
  if (!fs::is_regular_file(script)) {
    return NotFound("entry point '" + program + "' not found at '" + script.string() + "'");
  }
  ResolvedCommand command;
  std::string extension = script.extension().string();
  if (extension == ".py") {
    command.argv = {"python3", script.string()};
  } else if (extension == ".sh") {
    command.argv = {"sh", script.string()};
  } else {
    command.argv = {script.string()};
  }
  command.user_entry_point = script.filename().string();
  command.working_directory = script.parent_path().string();
  return command;
}

}  // namespace

Result<ResolvedCommand> ResolveCommand(const WrapperOptions& options,
                                       const contract::JobDefinition& job,
                                       const contract::MlRoot& root) {
  ResolvedCommand command;
  bool pass_hyperparameters = options.hyperparameters_as_arguments;
  if (!options.command.empty()) {
    command.argv = options.command;
  } else if (!options.command_from_environment.empty()) {
    TY_ASSIGN_OR_RETURN(command.argv, core::SplitCommandLine(options.command_from_environment));
    if (command.argv.empty()) return InvalidArgument("TRAINYARD_COMMAND is blank");
  } else {
    std::string program;
    if (auto it = job.hyperparameters.find("sagemaker_program"); it != job.hyperparameters.end()) {
      nlohmann::json decoded = core::DecodeHyperparameter(it->second);
      program = decoded.is_string() ? decoded.get<std::string>() : it->second;
    } else {
      program = options.sagemaker_program;
    }
    if (program.empty()) {
      return InvalidArgument(
          "no command to run: give one after '--', in TRAINYARD_COMMAND, or name a script in the "
          "hyperparameter sagemaker_program or in SAGEMAKER_PROGRAM");
    }
    TY_ASSIGN_OR_RETURN(command, ScriptCommand(program, root));
    pass_hyperparameters = true;
  }
  if (pass_hyperparameters) {
    for (std::string& argument : core::ToCommandLineArguments(job.hyperparameters)) {
      command.argv.push_back(std::move(argument));
    }
  }
  return command;
}

}  // namespace trainyard::wrapper

// For the app's tests: parses and runs a command group the way cli.cc does (its Add* function
// before parsing, its Run* function after), capturing what it prints and its exit code.
#pragma once

#include <stdio.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace trainyard::app::testing {

struct CliRun {
  int code = -1;
  std::string out, err;
};

// `State` has FILE* out and err, which the commands print to; `configure` may change the rest
// of it before parsing (a shorter poll interval).
template <typename State>
CliRun RunCommands(std::vector<std::string> args, void (*add)(CLI::App&, State&),
                   std::optional<int> (*run)(const State&),
                   const std::function<void(State&)>& configure = {}) {
  CLI::App cli{"test", "trainyard"};
  cli.require_subcommand(1);
  State state;
  if (configure) configure(state);
  char *out_data = nullptr, *err_data = nullptr;
  size_t out_size = 0, err_size = 0;
  state.out = open_memstream(&out_data, &out_size);
  state.err = open_memstream(&err_data, &err_size);
  add(cli, state);
  CliRun result;
  std::ostringstream usage_out, usage_err;
  try {
    std::reverse(args.begin(), args.end());
    cli.parse(args);
    result.code = run(state).value_or(-1);
  } catch (const CLI::ParseError& error) {
    result.code = cli.exit(error, usage_out, usage_err) == 0 ? 0 : 2;
  }
  std::fclose(state.out);
  std::fclose(state.err);
  result.out = std::string(out_data, out_size) + usage_out.str();
  result.err = std::string(err_data, err_size) + usage_err.str();
  std::free(out_data);
  std::free(err_data);
  return result;
}

}  // namespace trainyard::app::testing

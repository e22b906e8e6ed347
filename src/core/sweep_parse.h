// Reading a sweep from command-line flags and from a grid file's JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/search_space.h"
#include "core/sweep.h"

namespace trainyard::core {

// "--param learning_rate=0.1,0.01": the name and its comma-separated values, each trimmed of
// surrounding whitespace. Commas inside brackets, braces or a double-quoted string do not
// split, so "layers=[1,2],[3,4]" gives the two values "[1,2]" and "[3,4]". Refused: no '=',
// an empty name, an empty value ("lr=0.1,,0.2"), unbalanced brackets or quotes.
Result<std::pair<std::string, std::vector<std::string>>> ParseParamFlag(std::string_view text);

// "KEY=VALUE" (--hp, --env, --channel), split at the first '='. Neither part is trimmed: an
// environment value may mean its spaces. Refused: no '=', an empty key. `flag` names the flag
// in the message ("--env 'FOO': expected KEY=VALUE").
Result<std::pair<std::string, std::string>> ParseKeyValue(std::string_view text,
                                                          std::string_view flag);

// What --hp and --param say: the fixed values, the lists of values (a grid's dimensions, or a
// search's categorical ranges) in the order given, and the ranges (a --param whose one value
// is a range: core::ParseRangeFlag, "lr=log:1e-5..1e-1", "layers=int:1..8").
struct SweepFlags {
  SweepSpec sweep;
  std::vector<ParameterRange> ranges;
};

// The one reading of --hp and --param for every command: as ParseSweepFlags, but a --param
// that is a range is a range (refused as ParseRangeFlag refuses), not a grid value.
Result<SweepFlags> ParseSearchFlags(const std::vector<std::string>& hyperparameter_flags,
                                    const std::vector<std::string>& param_flags);

// The sweep that `--hp KEY=VALUE` (fixed, ParseKeyValue; a later one replaces an earlier) and
// `--param NAME=V1,V2,...` (the grid, ParseParamFlag, in the order given) describe: the one
// reading of these flags that `trainyard run` and `trainyard sweep create` share. Values stay
// SageMaker's strings; DecodeHyperparameter gives what the job sees ("0.1" -> 0.1, "[1,2]" ->
// a list, "\"a,b\"" -> "a,b", "adam" -> "adam"). Refused: what those parsers refuse, a name
// given to --param twice, and a range (a grid lists its values; ranges are searched).
Result<SweepSpec> ParseSweepFlags(const std::vector<std::string>& hyperparameter_flags,
                                  const std::vector<std::string>& param_flags);

// A grid file: {"grid": {name: [values...]}} or {"combinations": [{name: value}, ...]}, either
// with an optional "fixed": {name: value}; an object with none of those keys is a bare grid and
// an array is a bare list of combinations. Values may be any JSON and are carried as
// EncodeHyperparameter strings (0.1 -> "0.1", "adam" -> "adam", [1,2] -> "[1,2]"); a grid's
// values are always a list, so a list-valued parameter is a list of lists. Errors name the
// place in the document: "grid.learning_rate[2]: ...". A grid keeps the order of the object it
// is given: document order from an ordered_json (ParseSweepJsonText), key order from a json.
Result<SweepSpec> ParseSweepJson(const nlohmann::json& document);
Result<SweepSpec> ParseSweepJson(const nlohmann::ordered_json& document);
// Parses the text itself, keeping the grid in the order the file writes it.
Result<SweepSpec> ParseSweepJsonText(std::string_view text);

}  // namespace trainyard::core

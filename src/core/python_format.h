// Python's ways of printing a value that json.loads returned, reproduced so that a script sees
// the same command-line arguments and SM_* variables here as under AWS's training toolkit
// (sagemaker_training.mapping: to_cmd_args uses str(), to_env_vars uses json.dumps).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace trainyard::core {

// repr(float): the shortest digits that read back as the same double, in fixed notation when
// the decimal exponent is in [-4, 16) ("0.1", "2.0", "0.0001") and in scientific notation
// otherwise, with a sign and at least two exponent digits ("1e-05", "1e+16"); "inf", "nan".
std::string PythonFloatRepr(double value);

// repr(str): single quotes unless the text holds a single quote and no double quote; escapes
// for backslash, the quote, \t \n \r, other control characters and non-printable characters.
// Python's idea of "printable" comes from the Unicode database; this keeps every character
// printable except controls, separators, format characters, private use and non-characters,
// so an unassigned code point prints as itself here where Python would escape it.
std::string PythonStringRepr(std::string_view utf8);

// repr() of a decoded value: None, True, False, ints, floats, '...' strings, [a, b], {'k': v}.
// Objects keep the order they hold (ordered_json keeps the document's order, as Python's dict).
std::string PythonRepr(const nlohmann::ordered_json& value);

// str() of a decoded value: a string as it is, anything else as repr().
std::string PythonStr(const nlohmann::ordered_json& value);

// json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii), keys in the order the
// object holds them (nlohmann::json keeps them sorted, which is sort_keys=True). Non-finite
// floats print as NaN/Infinity/-Infinity as Python's allow_nan=True does.
std::string PythonJsonDumps(const nlohmann::json& value, bool ensure_ascii);

}  // namespace trainyard::core

#include "core/python_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace trainyard::core {
namespace {

// Expected strings from Python 3.11's repr().
TEST(PythonFormatTest, FloatRepr) {
  const std::vector<std::pair<double, std::string>> rows = {
      {0.1, "0.1"},
      {2.0, "2.0"},
      {100.0, "100.0"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {0.00012345, "0.00012345"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},
      {1e22, "1e+22"},
      {1.5e300, "1.5e+300"},
      {123.456, "123.456"},
      {-1.5e-10, "-1.5e-10"},
      {1.0 / 3, "0.3333333333333333"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {9007199254740993.0, "9007199254740992.0"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {5e-324, "5e-324"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
      {std::nan(""), "nan"},
  };
  for (const auto& [value, repr] : rows) EXPECT_EQ(PythonFloatRepr(value), repr) << repr;
}

TEST(PythonFormatTest, StringRepr) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"a", "'a'"},
      {"it's", "\"it's\""},
      {"say \"hi\"", "'say \"hi\"'"},
      {"both ' \"", "'both \\' \"'"},
      {"back\\slash", "'back\\\\slash'"},
      {std::string("\x00\x1f\x7f", 3), "'\\x00\\x1f\\x7f'"},
      {"\u0080\u009f\u00a0\u00ad", "'\\x80\\x9f\\xa0\\xad'"},
      {"é中", "'é中'"},
      {"\u2028\u200b\ufeff", "'\\u2028\\u200b\\ufeff'"},
      {"\ue000", "'\\ue000'"},
      {"😀", "'😀'"},
      {"\U000F0000", "'\\U000f0000'"},
      {"\ufffe", "'\\ufffe'"},
      {"\n\r\t", "'\\n\\r\\t'"},
      {"", "''"},
      {"\xff", "'\ufffd'"},  // not UTF-8: shown as U+FFFD rather than passed on broken
  };
  for (const auto& [text, repr] : rows) EXPECT_EQ(PythonStringRepr(text), repr) << repr;
}

TEST(PythonFormatTest, StrAndRepr) {
  using nlohmann::ordered_json;
  EXPECT_EQ(PythonStr(ordered_json("x")), "x");
  EXPECT_EQ(PythonRepr(ordered_json("x")), "'x'");
  EXPECT_EQ(PythonStr(ordered_json(nullptr)), "None");
  EXPECT_EQ(PythonStr(ordered_json(true)), "True");
  EXPECT_EQ(PythonStr(ordered_json(-7)), "-7");
  EXPECT_EQ(PythonStr(ordered_json::parse(R"({"z": [1, "a", {"k": null}], "a": 2.5})")),
            "{'z': [1, 'a', {'k': None}], 'a': 2.5}");
  EXPECT_EQ(PythonStr(ordered_json::array()), "[]");
  EXPECT_EQ(PythonStr(ordered_json::object()), "{}");
}

TEST(PythonFormatTest, JsonDumps) {
  using nlohmann::json;
  EXPECT_EQ(PythonJsonDumps(json::parse(R"({"b": [1, 2.0, "é\u0001\u007f😀"], "a": null})"), true),
            R"({"a":null,"b":[1,2.0,"\u00e9\u0001\u007f\ud83d\ude00"]})");
  EXPECT_EQ(PythonJsonDumps(json::parse(R"(["é\u007f\"\\\n\b\f\r\t"])"), false),
            "[\"é\x7f\\\"\\\\\\n\\b\\f\\r\\t\"]");
  EXPECT_EQ(PythonJsonDumps(json(std::nan("")), true), "NaN");
  EXPECT_EQ(PythonJsonDumps(json(-std::numeric_limits<double>::infinity()), true), "-Infinity");
  EXPECT_EQ(PythonJsonDumps(json(1e-7), true), "1e-07");
}

}  // namespace
}  // namespace trainyard::core

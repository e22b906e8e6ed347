#include "core/hyperparameters.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace trainyard::core {
namespace {

using nlohmann::json;

// Each row: what hyperparameters.json holds, what the toolkit's json.loads makes of it, the
// argument to_cmd_args prints for it and the SM_HP_* value to_env_vars prints. The expected
// strings came from running sagemaker_training's mapping code under Python 3.11, except where
// a comment says trainyard differs on purpose.
struct Row {
  std::string raw;
  json decoded;
  std::string argument;
  std::string environment;
};

const std::string kBomThen5 = std::string("\xEF\xBB\xBF") + "5";

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"5", 5, "5", "5"},
      {"5.0", 5.0, "5.0", "5.0"},
      {"-3", -3, "-3", "-3"},
      {"1e-3", 0.001, "0.001", "0.001"},
      {"0.1", 0.1, "0.1", "0.1"},
      {"\"quoted\"", "quoted", "quoted", "quoted"},
      {"abc", "abc", "abc", "abc"},
      {"", "", "", ""},
      {"true", true, "True", "true"},
      {"True", "True", "True", "True"},  // Python's spelling is not JSON: stays a string
      {"false", false, "False", "false"},
      {"null", nullptr, "", ""},
      {"[1, 2]", json::array({1, 2}), "[1, 2]", "[1,2]"},
      {"[\"a\", \"b\"]", json::array({"a", "b"}), "['a', 'b']", "[\"a\",\"b\"]"},
      {"{\"b\":1,\"a\":2}", json({{"a", 2}, {"b", 1}}), "a=2,b=1", "{\"a\":2,\"b\":1}"},
      {" 5 ", 5, "5", "5"},  // json.loads allows whitespace around the value
      {"\n5\t", 5, "5", "5"},
      // Python's json.loads accepts NaN and Infinity (as float('nan') and float('inf'), printed
      // "nan" and "inf" by to_cmd_args); JSON has neither, and job.json and SM_HPS must stay
      // valid JSON, so trainyard keeps these as the strings they are.
      {"NaN", "NaN", "NaN", "NaN"},
      {"Infinity", "Infinity", "Infinity", "Infinity"},
      {"-Infinity", "-Infinity", "-Infinity", "-Infinity"},
      {"1e400", "1e400", "1e400", "1e400"},  // Python: inf
      {"\"café\"", "café", "café", "café"},
      {"café", "café", "café", "café"},
      {"\"\\u00e9\\n\"", "é\n", "é\n", "é\n"},
      {"[\"\\u00e9\\t\\u00a0\"]", json::array({"é\t\u00a0"}), "['é\\t\\xa0']",
       "[\"\\u00e9\\t\\u00a0\"]"},
      {"[\"\\ud83d\\ude00\"]", json::array({"😀"}), "['😀']", "[\"\\ud83d\\ude00\"]"},
      {"[\"\\u007f\\u0001\"]", json::array({"\x7f\x01"}), "['\\x7f\\x01']", "[\"\\u007f\\u0001\"]"},
      {"[\"it's\"]", json::array({"it's"}), "[\"it's\"]", "[\"it's\"]"},
      {"[\"it's \\\"q\\\"\"]", json::array({"it's \"q\""}), "['it\\'s \"q\"']",
       "[\"it's \\\"q\\\"\"]"},
      {"1e16", 1e16, "1e+16", "1e+16"},
      {"1e15", 1e15, "1000000000000000.0", "1000000000000000.0"},
      {"1E5", 100000.0, "100000.0", "100000.0"},
      {"0.0001", 0.0001, "0.0001", "0.0001"},
      {"0.00001", 0.00001, "1e-05", "1e-05"},
      {"2.5e-7", 2.5e-7, "2.5e-07", "2.5e-07"},
      {"123456789.125", 123456789.125, "123456789.125", "123456789.125"},
      {"0.30000000000000004", 0.30000000000000004, "0.30000000000000004", "0.30000000000000004"},
      {"1.7976931348623157e308", 1.7976931348623157e308, "1.7976931348623157e+308",
       "1.7976931348623157e+308"},
      {"5e-324", 5e-324, "5e-324", "5e-324"},
      {"-0.0", -0.0, "-0.0", "-0.0"},
      {"-0", 0, "0", "0"},
      {"18446744073709551615", 18446744073709551615ull, "18446744073709551615",
       "18446744073709551615"},
      {"-9223372036854775808", INT64_MIN, "-9223372036854775808", "-9223372036854775808"},
      // Beyond 64 bits Python keeps the int exact; a double could not, so the text is kept.
      // It prints exactly as Python prints the int.
      {"123456789012345678901234567890", "123456789012345678901234567890",
       "123456789012345678901234567890", "123456789012345678901234567890"},
      {"[1.0, \"x\", null, true]", json::array({1.0, "x", nullptr, true}), "[1.0, 'x', None, True]",
       "[1.0,\"x\",null,true]"},
      // Nested objects print in document order (a Python dict's), the top level sorted.
      {"{\"z\":{\"y\":1,\"x\":[0.5]},\"a\":null}",
       json({{"a", nullptr}, {"z", {{"x", {0.5}}, {"y", 1}}}}), "a=None,z={'y': 1, 'x': [0.5]}",
       "{\"a\":null,\"z\":{\"x\":[0.5],\"y\":1}}"},
      {"{\"a\": [1, {\"b\": false}]}", json({{"a", {1, {{"b", false}}}}}), "a=[1, {'b': False}]",
       "{\"a\":[1,{\"b\":false}]}"},
      {"{}", json::object(), "", "{}"},
      {"[]", json::array(), "[]", "[]"},
      {"\"\"", "", "", ""},
      {"1e", "1e", "1e", "1e"},
      {"[1,2", "[1,2", "[1,2", "[1,2"},
      {"1,2", "1,2", "1,2", "1,2"},
      {"{\"a\":1}x", "{\"a\":1}x", "{\"a\":1}x", "{\"a\":1}x"},
      {"// c\n5", "// c\n5", "// c\n5", "// c\n5"},  // no comments in JSON
      // Python refuses a byte-order mark ("Unexpected UTF-8 BOM"); nlohmann would skip it.
      {kBomThen5, kBomThen5, kBomThen5, kBomThen5},
  };
  return rows;
}

// Python has one int type; nlohmann::json has signed and unsigned ones.
json::value_t Kind(const json& value) {
  return value.is_number_unsigned() ? json::value_t::number_integer : value.type();
}

TEST(HyperparametersTest, DecodesAsTheToolkitDoes) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE("raw: " + row.raw);
    json decoded = DecodeHyperparameter(row.raw);
    EXPECT_EQ(decoded, row.decoded);
    EXPECT_EQ(Kind(decoded), Kind(row.decoded));  // 1.0 == 1 in nlohmann::json, not in Python
  }
}

TEST(HyperparametersTest, CommandLineArgumentPrintsAsPythonStr) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE("raw: " + row.raw);
    EXPECT_EQ(ToCommandLineArguments({{"x", row.raw}}),
              (std::vector<std::string>{"-x", row.argument}));
  }
}

TEST(HyperparametersTest, EnvironmentValuePrintsAsPythonJsonDumps) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE("raw: " + row.raw);
    EXPECT_EQ(ToEnvironmentValue(DecodeHyperparameter(row.raw)), row.environment);
  }
}

TEST(HyperparametersTest, NegativeZeroKeepsItsSign) {
  EXPECT_TRUE(std::signbit(DecodeHyperparameter("-0.0").get<double>()));
}

TEST(HyperparametersTest, DeepNestingStaysAString) {
  const std::string deep = std::string(501, '[') + std::string(501, ']');
  EXPECT_EQ(DecodeHyperparameter(deep), json(deep));
  const std::string shallow = std::string(500, '[') + std::string(500, ']');
  EXPECT_TRUE(DecodeHyperparameter(shallow).is_array());
}

TEST(HyperparametersTest, RepeatedObjectKeyKeepsTheLastValue) {
  EXPECT_EQ(DecodeHyperparameter("{\"a\":1,\"a\":2}"), json({{"a", 2}}));
  EXPECT_EQ(ToCommandLineArguments({{"x", "{\"b\":[{\"c\":1,\"a\":0,\"c\":2}]}"}}),
            (std::vector<std::string>{"-x", "b=[{'c': 2, 'a': 0}]"}));
}

TEST(HyperparametersTest, DecodesAMap) {
  EXPECT_EQ(DecodeHyperparameters({{"lr", "0.1"}, {"name", "resnet"}, {"layers", "[1,2]"}}),
            json({{"lr", 0.1}, {"name", "resnet"}, {"layers", {1, 2}}}));
  EXPECT_EQ(DecodeHyperparameters({}), json::object());
}

TEST(HyperparametersTest, CommandLineDropsSageMakerKeysAndSortsTheRest) {
  HyperparameterMap raw = {{"sagemaker_program", "\"train.py\""},
                           {"sagemaker_submit_directory", "\"s3://b/k\""},
                           {"lr", "0.1"},
                           {"b", "32"},
                           {"epochs", "10"},
                           {"optimizer", "\"adam\""},
                           {"sagemaker", "1"}};  // no underscore: a user key
  EXPECT_EQ(ToCommandLineArguments(raw),
            (std::vector<std::string>{"-b", "32", "--epochs", "10", "--lr", "0.1", "--optimizer",
                                      "adam", "--sagemaker", "1"}));
}

TEST(HyperparametersTest, CommandLineKeyLengthCountsCharacters) {
  EXPECT_EQ(ToCommandLineArguments({{"é", "1"}}), (std::vector<std::string>{"-é", "1"}));
  EXPECT_EQ(ToCommandLineArguments({{"éé", "1"}}), (std::vector<std::string>{"--éé", "1"}));
  // The toolkit's arg_name gives "" for an empty key (validation refuses such a key anyway).
  EXPECT_EQ(ToCommandLineArguments({{"", "1"}}), (std::vector<std::string>{"", "1"}));
  EXPECT_TRUE(ToCommandLineArguments({}).empty());
}

TEST(HyperparametersTest, UserHyperparametersDropSageMakerKeys) {
  EXPECT_TRUE(IsSageMakerKey("sagemaker_program"));
  EXPECT_FALSE(IsSageMakerKey("sagemaker"));
  EXPECT_FALSE(IsSageMakerKey("my_sagemaker_x"));
  EXPECT_EQ(UserHyperparameters({{"sagemaker_region", "\"x\""}, {"lr", "0.1"}}),
            (HyperparameterMap{{"lr", "0.1"}}));
}

TEST(HyperparametersTest, EnvironmentValueOfTopLevelValues) {
  EXPECT_EQ(ToEnvironmentValue(json("plain")), "plain");
  EXPECT_EQ(ToEnvironmentValue(json(nullptr)), "");
  EXPECT_EQ(ToEnvironmentValue(json(4)), "4");
  EXPECT_EQ(ToEnvironmentValue(json(true)), "true");
  EXPECT_EQ(ToEnvironmentValue(json({{"b", "é"}, {"a", {2.0, 1e-05}}})),
            "{\"a\":[2.0,1e-05],\"b\":\"\\u00e9\"}");
}

struct EncodeRow {
  json value;
  std::string encoded;
};

TEST(HyperparametersTest, EncodesTypedValues) {
  const std::vector<EncodeRow> rows = {
      {5, "5"},
      {-3, "-3"},
      {0.1, "0.1"},
      {2.0, "2.0"},
      {1e-05, "1e-05"},
      {1e16, "1e+16"},
      {true, "true"},
      {false, "false"},
      {nullptr, "null"},
      {"abc", "abc"},  // a string as its content, not quoted
      {"café", "café"},
      {"", ""},
      {json::array({1, "a", 0.5}), "[1,\"a\",0.5]"},
      {json::array({"café"}), "[\"café\"]"},  // compact and not ASCII-escaped
      {json({{"b", 1}, {"a", {{"c", nullptr}}}}), "{\"a\":{\"c\":null},\"b\":1}"},
      {json::object(), "{}"},
  };
  for (const EncodeRow& row : rows) {
    SCOPED_TRACE(row.value.dump());
    EXPECT_EQ(EncodeHyperparameter(row.value), row.encoded);
    if (!row.value.is_string()) {
      EXPECT_EQ(DecodeHyperparameter(row.encoded), row.value);
    }
  }
}

TEST(HyperparametersTest, EncodingThenDecodingGivesTheValueBack) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE("raw: " + row.raw);
    EXPECT_EQ(DecodeHyperparameter(EncodeHyperparameter(row.decoded)), row.decoded);
  }
}

}  // namespace
}  // namespace trainyard::core

#include "core/sweep_parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace trainyard::core {
namespace {

using Values = std::vector<std::string>;
using Grid = std::vector<std::pair<std::string, std::vector<std::string>>>;

TEST(ParseParamFlagTest, NameAndValues) {
  auto parsed = ParseParamFlag("learning_rate=0.1,0.01");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->first, "learning_rate");
  EXPECT_EQ(parsed->second, (Values{"0.1", "0.01"}));
}

TEST(ParseParamFlagTest, TrimsSpaces) {
  auto parsed = ParseParamFlag(" lr = 0.1 , 0.01,\t0.001 ");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "lr");
  EXPECT_EQ(parsed->second, (Values{"0.1", "0.01", "0.001"}));
}

TEST(ParseParamFlagTest, BracketsAndQuotesKeepTheirCommas) {
  EXPECT_EQ(ParseParamFlag("layers=[1,2],[3,4]")->second, (Values{"[1,2]", "[3,4]"}));
  EXPECT_EQ(ParseParamFlag("layers=[[1,2],[3]], [4]")->second, (Values{"[[1,2],[3]]", "[4]"}));
  EXPECT_EQ(ParseParamFlag("opt={\"name\":\"adam\",\"b\":[1,2]},sgd")->second,
            (Values{"{\"name\":\"adam\",\"b\":[1,2]}", "sgd"}));
  EXPECT_EQ(ParseParamFlag("tag=\"a,b\",\"c\\\",d\"")->second, (Values{"\"a,b\"", "\"c\\\",d\""}));
  EXPECT_EQ(ParseParamFlag("expr=x=1")->second, (Values{"x=1"}));  // split at the first '='
  EXPECT_EQ(ParseParamFlag("one=5")->second, (Values{"5"}));
}

TEST(ParseParamFlagTest, Errors) {
  EXPECT_EQ(ParseParamFlag("lr").status().message(),
            "--param 'lr': expected NAME=VALUE[,VALUE...]");
  EXPECT_EQ(ParseParamFlag(" =1").status().message(), "--param ' =1': the name is empty");
  EXPECT_EQ(ParseParamFlag("lr=0.1,,0.2").status().message(),
            "--param 'lr=0.1,,0.2': value 2 is empty");
  EXPECT_EQ(ParseParamFlag("lr=").status().message(), "--param 'lr=': value 1 is empty");
  EXPECT_EQ(ParseParamFlag("l=[1,2").status().message(), "--param 'l=[1,2': a '[' is not closed");
  EXPECT_EQ(ParseParamFlag("l=1,2]").status().message(), "--param 'l=1,2]': unbalanced ']'");
  EXPECT_EQ(ParseParamFlag("l=[1}").status().message(), "--param 'l=[1}': unbalanced '}'");
  EXPECT_EQ(ParseParamFlag("l=\"a,b").status().message(),
            "--param 'l=\"a,b': a '\"' is not closed");
  EXPECT_EQ(ParseParamFlag("lr=1").status().code(), StatusCode::kOk);
}

TEST(ParseSweepFlagsTest, FixedValuesAndAGridInFlagOrder) {
  auto spec = ParseSweepFlags({"iterations=300", "optimizer=adam", "iterations=400"},
                              {"lr=0.1,0.01", "layers=[64,32],[16]", "tag=\"a,b\",c"});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->fixed, (HyperparameterMap{{"iterations", "400"}, {"optimizer", "adam"}}));
  EXPECT_EQ(
      spec->grid,
      (Grid{{"lr", {"0.1", "0.01"}}, {"layers", {"[64,32]", "[16]"}}, {"tag", {"\"a,b\"", "c"}}}));
  EXPECT_TRUE(spec->combinations.empty());
}

TEST(ParseSweepFlagsTest, Errors) {
  EXPECT_EQ(ParseSweepFlags({"novalue"}, {}).status().message(),
            "--hp 'novalue': expected KEY=VALUE");
  EXPECT_EQ(ParseSweepFlags({}, {"lr=1,2", "lr=3"}).status().message(),
            "--param 'lr' is given twice");
  EXPECT_EQ(ParseSweepFlags({}, {"lr=0.1,,0.2"}).status().message(),
            "--param 'lr=0.1,,0.2': value 2 is empty");
}

TEST(ParseKeyValueTest, SplitsAtTheFirstEquals) {
  auto parsed = ParseKeyValue("FOO=bar=baz", "--env");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "FOO");
  EXPECT_EQ(parsed->second, "bar=baz");
  EXPECT_EQ(ParseKeyValue("FOO=", "--env")->second, "");
  EXPECT_EQ(ParseKeyValue("FOO= spaced ", "--env")->second, " spaced ");
  EXPECT_EQ(ParseKeyValue("FOO", "--env").status().message(), "--env 'FOO': expected KEY=VALUE");
  EXPECT_EQ(ParseKeyValue("=x", "--hp").status().message(),
            "--hp '=x': the key before '=' is empty");
}

TEST(ParseSweepJsonTest, StructuredGridKeepsDocumentOrder) {
  auto spec = ParseSweepJsonText(R"({
    "fixed": {"epochs": 10, "optimizer": "adam"},
    "grid": {"lr": [0.1, 1e-5], "batch": [32, 64], "layers": [[1, 2], [3]]}
  })");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->fixed, (HyperparameterMap{{"epochs", "10"}, {"optimizer", "adam"}}));
  EXPECT_EQ(
      spec->grid,
      (Grid{{"lr", {"0.1", "1e-05"}}, {"batch", {"32", "64"}}, {"layers", {"[1,2]", "[3]"}}}));
  EXPECT_TRUE(spec->combinations.empty());
}

TEST(ParseSweepJsonTest, AJsonObjectGivesKeyOrder) {
  auto spec = ParseSweepJson(nlohmann::json::parse(R"({"lr": [0.1], "batch": [32]})"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->grid, (Grid{{"batch", {"32"}}, {"lr", {"0.1"}}}));
}

TEST(ParseSweepJsonTest, BareGrid) {
  auto spec =
      ParseSweepJsonText(R"({"lr": [0.1, 0.01], "name": ["a", "b"], "flag": [true, null]})");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->fixed.empty());
  EXPECT_EQ(spec->grid,
            (Grid{{"lr", {"0.1", "0.01"}}, {"name", {"a", "b"}}, {"flag", {"true", "null"}}}));
}

TEST(ParseSweepJsonTest, Combinations) {
  auto spec = ParseSweepJsonText(R"({
    "fixed": {"epochs": 3},
    "combinations": [{"lr": 0.1, "batch": 32}, {"lr": 0.01, "opt": {"b": 1, "a": "x"}}]
  })");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->fixed, (HyperparameterMap{{"epochs", "3"}}));
  EXPECT_EQ(spec->combinations,
            (std::vector<HyperparameterMap>{{{"lr", "0.1"}, {"batch", "32"}},
                                            {{"lr", "0.01"}, {"opt", "{\"a\":\"x\",\"b\":1}"}}}));

  auto bare = ParseSweepJsonText(R"([{"lr": 0.1}, {"lr": 0.2}])");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->combinations, (std::vector<HyperparameterMap>{{{"lr", "0.1"}}, {{"lr", "0.2"}}}));
}

TEST(ParseSweepJsonTest, FixedOnly) {
  auto spec = ParseSweepJsonText(R"({"fixed": {"lr": 0.1}})");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->fixed, (HyperparameterMap{{"lr", "0.1"}}));
  EXPECT_TRUE(spec->grid.empty());
}

TEST(ParseSweepJsonTest, ErrorsNameThePlace) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {R"({"grid": {"lr": [0.1, 0.2, 1e400]}})",
       "sweep file: not valid JSON: number overflow parsing '1e400'"},
      {R"({"grid": {"lr": 0.1}})",
       "grid.lr: expected a list of values, got a number (a value that is itself a list goes "
       "inside one: [[1,2]])"},
      {R"({"grid": {"lr": []}})", "grid.lr: the list of values is empty"},
      {R"({"grid": {}})", "grid: no parameters"},
      {R"({"grid": [1]})",
       "grid: expected an object of parameter names to lists of values, got a list"},
      {R"({"lr": "0.1"})",
       "lr: expected a list of values, got a string (a value that is itself a list goes inside "
       "one: [[1,2]])"},
      {R"({})", "grid: no parameters"},
      {R"([])", "combinations: the list is empty"},
      {R"([{"lr": 1}, 5])", "[1]: expected an object of hyperparameters, got a number"},
      {R"({"combinations": [{"lr": 1}, [1]]})",
       "combinations[1]: expected an object of hyperparameters, got a list"},
      {R"({"combinations": {"lr": 1}})", "combinations: expected a list of objects, got an object"},
      {R"({"combinations": []})", "combinations: the list is empty"},
      {R"({"fixed": [1]})", "fixed: expected an object of values, got a list"},
      {R"({"grid": {"a": [1]}, "combinations": [{"b": 1}]})",
       "sweep file: both grid and combinations; give one or the other"},
      {R"({"grid": {"a": [1]}, "lr": [1]})",
       "lr: not a key of a sweep file (grid, combinations, fixed)"},
      {R"("grid")", "sweep file: expected an object or a list, got a string"},
      {R"({"grid": )",
       "sweep file: not valid JSON: parse error at line 1, column 10: syntax "
       "error while parsing value - unexpected end of input; expected '[', '{', "
       "or a literal"},
  };
  for (const auto& [text, message] : rows) {
    SCOPED_TRACE(text);
    Result<SweepSpec> spec = ParseSweepJsonText(text);
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), message);
  }
}

TEST(ParseSweepJsonTest, NonFiniteNumbersAreRefused) {
  nlohmann::json document = {{"grid", {{"lr", {0.1, 0.2, std::nan("")}}}}};
  EXPECT_EQ(ParseSweepJson(document).status().message(), "grid.lr[2]: not a finite number");
  nlohmann::json nested = {{"fixed", {{"schedule", {{"end", HUGE_VAL}}}}}};
  EXPECT_EQ(ParseSweepJson(nested).status().message(), "fixed.schedule: not a finite number");
}

TEST(ParseSweepJsonTest, ParsedSpecExpands) {
  auto spec = ParseSweepJsonText(R"({"fixed": {"e": 1}, "grid": {"b": [1, 2], "a": ["x", "y"]}})");
  ASSERT_TRUE(spec.ok());
  auto jobs = ExpandSweep(*spec);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 4u);
  EXPECT_EQ(jobs->at(1), (HyperparameterMap{{"e", "1"}, {"b", "1"}, {"a", "y"}}));
}

}  // namespace
}  // namespace trainyard::core

namespace trainyard::core {
namespace {

TEST(SearchFlagsTest, ARangeIsARangeAndAListStaysAList) {
  auto flags = ParseSearchFlags({"iterations=100"},
                                {"lr=log:1e-5..1e-1", "layers=int:1..8", "optimizer=adam,sgd"});
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(flags->sweep.fixed.at("iterations"), "100");
  ASSERT_EQ(flags->ranges.size(), 2u);
  EXPECT_EQ(flags->ranges[0].name, "lr");
  EXPECT_EQ(flags->ranges[0].scaling, ParameterScaling::kLogarithmic);
  EXPECT_EQ(flags->ranges[1].type, ParameterType::kInteger);
  ASSERT_EQ(flags->sweep.grid.size(), 1u);
  EXPECT_EQ(flags->sweep.grid[0].second, (std::vector<std::string>{"adam", "sgd"}));
  EXPECT_EQ(ParseSearchFlags({}, {"lr=log:0..1"}).status().message(),
            "--param 'lr=log:0..1': logarithmic scaling needs min > 0, not 0");
  EXPECT_EQ(ParseSearchFlags({}, {"lr=0.1", "lr=log:1e-3..1"}).status().message(),
            "--param 'lr' is given twice");
}

TEST(SearchFlagsTest, AGridRefusesARange) {
  EXPECT_EQ(ParseSweepFlags({}, {"lr=log:1e-5..1e-1"}).status().message(),
            "--param 'lr': a range is searched, not listed: give it to `trainyard sweep create "
            "--strategy random|bayesian|hyperband` (docs/search.md)");
  // Values that only look a little like ranges stay values.
  auto grid = ParseSweepFlags({}, {"url=http://a,http://b", "mode=fast:1"});
  ASSERT_TRUE(grid.ok()) << grid.status().ToString();
  EXPECT_EQ(grid->grid.size(), 2u);
}

}  // namespace
}  // namespace trainyard::core

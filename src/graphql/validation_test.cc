#include "graphql/validation.h"

#include <gtest/gtest.h>

#include "graphql/parser.h"
#include "graphql/test_schema.h"

namespace trainyard::graphql {
namespace {

class GraphqlValidation : public ::testing::Test {
 protected:
  std::vector<std::string> Messages(const std::string& query) {
    ParseOutcome parsed = Parse(query);
    EXPECT_FALSE(parsed.error) << parsed.error->message;
    std::vector<std::string> messages;
    if (!parsed.document) return messages;
    for (const Error& error : Validate(*library_.schema, *parsed.document)) {
      EXPECT_FALSE(error.locations.empty()) << error.message;
      EXPECT_EQ(error.extensions["code"], "InvalidArgument");
      messages.push_back(error.message);
    }
    return messages;
  }
  testing::Library library_ = testing::MakeLibrary();
};

TEST_F(GraphqlValidation, AcceptsAValidDocument) {
  EXPECT_EQ(Messages(R"(query Q($id: ID!, $g: Genre = NOVEL, $skip: Boolean = false) {
      book(id: $id) { ...F tags @skip(if: $skip) }
      books(filter: {genre: $g, minPages: 3}) { id }
      echo(value: {any: [$id, 1]})
    }
    fragment F on Book { title author { name } ... on Book { id } })"),
            std::vector<std::string>{});
}

TEST_F(GraphqlValidation, FieldsAndSelections) {
  EXPECT_EQ(Messages("{ nope }"),
            std::vector<std::string>{"Cannot query field \"nope\" on type \"Query\"."});
  EXPECT_EQ(Messages("{ books }"),
            std::vector<std::string>{"Field \"books\" of type \"[Book!]!\" must have a selection "
                                     "of subfields. Did you mean \"books { ... }\"?"});
  EXPECT_EQ(Messages("{ books { title { x } } }"),
            std::vector<std::string>{"Field \"title\" must not have a selection since type "
                                     "\"String!\" has no subfields."});
  EXPECT_EQ(Messages("{ books { a: title a: id } }"),
            std::vector<std::string>{"Fields \"a\" conflict because \"title\" and \"id\" are "
                                     "different fields. Use different aliases on the fields to "
                                     "fetch both if this was intentional."});
  EXPECT_EQ(Messages("{ books { titel } }"),
            std::vector<std::string>{
                "Cannot query field \"titel\" on type \"Book\". Did you mean \"title\"?"});
  EXPECT_EQ(Messages("{ books(firts: 1, filter: {genre: NOVLE, minpages: 2}) { id } }"),
            (std::vector<std::string>{
                "Unknown argument \"firts\" on field \"Query.books\". Did you mean \"first\" or "
                "\"filter\"?",
                "Value \"NOVLE\" does not exist in \"Genre\" enum. Did you mean the enum value "
                "\"NOVEL\"?",
                "Field \"minpages\" is not defined by type \"BookFilter\". Did you mean "
                "\"minPages\"?"}));
  EXPECT_EQ(Messages("{ __schema { types { name } } __typename }"), std::vector<std::string>{});
  EXPECT_EQ(Messages("{ books { __schema { description } } }"),
            std::vector<std::string>{"Cannot query field \"__schema\" on type \"Book\"."});
}

TEST_F(GraphqlValidation, Arguments) {
  EXPECT_EQ(Messages("{ book { id } }"),
            std::vector<std::string>{"Field \"book\" argument \"id\" of type \"ID!\" is required, "
                                     "but it was not provided."});
  EXPECT_EQ(Messages("{ book(id: \"a\", id: \"b\", color: 1) { id } }"),
            (std::vector<std::string>{"There can be only one argument named \"id\".",
                                      "Unknown argument \"color\" on field \"Query.book\"."}));
  EXPECT_EQ(Messages("{ books(first: \"2\", filter: {genre: POEMS, pages: 1}) { id } }"),
            (std::vector<std::string>{"Int cannot represent non-integer value: \"2\"",
                                      "Value \"POEMS\" does not exist in \"Genre\" enum. Did "
                                      "you mean the enum value \"POETRY\"?",
                                      "Field \"pages\" is not defined by type \"BookFilter\". "
                                      "Did you mean \"minPages\"?"}));
  EXPECT_EQ(Messages("{ books(filter: {genre: \"NOVEL\"}) { id } book(id: null) { id } }"),
            (std::vector<std::string>{"Enum \"Genre\" cannot represent non-enum value: \"NOVEL\".",
                                      "Expected value of type \"ID!\", found null."}));
  EXPECT_EQ(Messages("{ books(first: 99999999999) { id } }"),
            std::vector<std::string>{"Int cannot represent non 32-bit signed integer value: "
                                     "99999999999"});
}

TEST_F(GraphqlValidation, Operations) {
  EXPECT_EQ(Messages("query A { books { id } } query A { books { id } }"),
            std::vector<std::string>{"There can be only one operation named \"A\"."});
  EXPECT_EQ(
      Messages("{ books { id } } query A { books { id } }"),
      std::vector<std::string>{"This anonymous operation must be the only defined operation."});
  EXPECT_EQ(Messages("subscription { books { id } }"),
            std::vector<std::string>{
                "Cannot query field \"books\" on type \"Subscription\". Did you mean \"ticks\"?"});
}

TEST_F(GraphqlValidation, Fragments) {
  EXPECT_EQ(Messages("{ books { ...Missing } }"),
            std::vector<std::string>{"Unknown fragment \"Missing\"."});
  EXPECT_EQ(Messages("{ books { id } } fragment F on Book { id }"),
            std::vector<std::string>{"Fragment \"F\" is never used."});
  EXPECT_EQ(Messages("{ books { ...A } } fragment A on Book { ...B } fragment B on Book { ...A }"),
            std::vector<std::string>{"Cannot spread fragment \"A\" within itself via \"B\"."});
  EXPECT_EQ(Messages("{ books { ...A } } fragment A on Author { name }"),
            std::vector<std::string>{"Fragment \"A\" cannot be spread here as objects of type "
                                     "\"Book\" can never be of type \"Author\"."});
  EXPECT_EQ(Messages("{ books { ... on Nope { id } } }"),
            std::vector<std::string>{"Unknown type \"Nope\"."});
  EXPECT_EQ(
      Messages("{ books { ...A } } fragment A on Genre { id }"),
      std::vector<std::string>{"Fragment \"A\" cannot condition on non composite type \"Genre\"."});
  EXPECT_EQ(Messages("{ books { ...A } } fragment A on Book { id } fragment A on Book { id }"),
            std::vector<std::string>{"There can be only one fragment named \"A\"."});
}

TEST_F(GraphqlValidation, Directives) {
  EXPECT_EQ(Messages("{ books @live { id } }"),
            std::vector<std::string>{"Unknown directive \"@live\"."});
  EXPECT_EQ(Messages("query @skip(if: true) { books { id } }"),
            std::vector<std::string>{"Directive \"@skip\" may not be used on QUERY."});
  EXPECT_EQ(
      Messages("{ books @skip(if: true) @skip(if: false) { id } }"),
      std::vector<std::string>{"The directive \"@skip\" can only be used once at this location."});
  EXPECT_EQ(Messages("{ books @include { id } }"),
            std::vector<std::string>{"Directive \"@include\" argument \"if\" of type \"Boolean!\" "
                                     "is required, but it was not provided."});
}

TEST_F(GraphqlValidation, Variables) {
  EXPECT_EQ(Messages("query Q { book(id: $id) { id } }"),
            std::vector<std::string>{"Variable \"$id\" is not defined by operation \"Q\"."});
  EXPECT_EQ(Messages("query Q($id: ID) { books { id } }"),
            std::vector<std::string>{"Variable \"$id\" is never used in operation \"Q\"."});
  EXPECT_EQ(Messages("query($id: ID) { book(id: $id) { id } }"),
            std::vector<std::string>{
                "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\"."});
  EXPECT_EQ(Messages("query($id: ID = \"b1\") { book(id: $id) { id } }"),
            std::vector<std::string>{});
  EXPECT_EQ(Messages("query($b: Book) { books { id } }"),
            (std::vector<std::string>{"Variable \"$b\" cannot be non-input type \"Book\".",
                                      "Variable \"$b\" is never used."}));
  EXPECT_EQ(Messages("query($a: Int, $a: Int) { books(first: $a) { id } }"),
            std::vector<std::string>{"There can be only one variable named \"$a\"."});
  EXPECT_EQ(Messages("query($n: Int = \"x\") { books(first: $n) { id } }"),
            std::vector<std::string>{"Int cannot represent non-integer value: \"x\""});
  // Used through a fragment: defined and used.
  EXPECT_EQ(Messages("query($id: ID!) { ...Q } fragment Q on Query { book(id: $id) { id } }"),
            std::vector<std::string>{});
}

}  // namespace
}  // namespace trainyard::graphql

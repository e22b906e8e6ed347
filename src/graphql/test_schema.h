// A small schema for the graphql module's tests: shelves of books, a failing field, a mutation
// that records its calls in order, a subscription whose events are books.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graphql/schema.h"

namespace trainyard::graphql::testing {

struct Library {
  std::unique_ptr<Schema> schema;
  std::shared_ptr<std::vector<std::string>> added;  // titles given to addBook, in call order
};

Library MakeLibrary();

}  // namespace trainyard::graphql::testing

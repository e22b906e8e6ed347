// The API's OpenAPI 3 document (docs/openapi.json), compiled in.
#pragma once

namespace trainyard::server {

const char* OpenApiDocument();

}  // namespace trainyard::server

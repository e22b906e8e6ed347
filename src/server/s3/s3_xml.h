// The little XML the S3 endpoint speaks: escaping for the documents it writes, and a tolerant
// reader for the two request bodies it parses (DeleteObjects' <Delete>, CompleteMultipartUpload's
// <CompleteMultipartUpload>). Not a general XML parser: elements are found by name, attributes
// and namespaces are ignored, entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) are decoded.
// Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::server::s3 {

inline constexpr char kS3Namespace[] = "http://s3.amazonaws.com/doc/2006-03-01/";

// Escapes & < > " ' for element text and attribute values.
std::string XmlEscape(std::string_view text);

// "<name>escaped text</name>".
std::string XmlElement(std::string_view name, std::string_view text);

// The inner text of every <name ...>...</name> directly or deeply inside `xml`, in document
// order, entities NOT yet decoded. "<name/>" gives "". nullopt when an element is not closed.
std::optional<std::vector<std::string_view>> XmlElements(std::string_view xml,
                                                         std::string_view name);

// Decodes the five entities and numeric character references; nullopt for a malformed one.
std::optional<std::string> XmlUnescape(std::string_view text);

}  // namespace trainyard::server::s3

// libarchive's xar writer, left out of trainyard-wrap.
//
// The wrapper packs model/ and output/data/ into tar.gz when it stages its outputs through the
// object store (wrapper/staging.h). Any of libarchive's writers brings archive_write_set_format.o
// from the static library, whose table of every format names the xar writer, which needs
// libxml2: the wrapper would no longer run in an image with only glibc. Defined here, that name
// is taken by this refusal instead, and libxml2 stays out; the wrapper writes tar.gz only.
#include <archive.h>

#include <cerrno>

extern "C" int archive_write_set_format_xar(struct archive* writer) {
  archive_set_error(writer, EINVAL, "trainyard-wrap does not write xar archives");
  return ARCHIVE_FATAL;
}

// The console's pages (plugins/console/www), built into the program by
// embed.cmake: the console serves these and nothing else from disk.
#pragma once

#include <cstddef>
#include <string_view>

namespace hearth::console {

struct EmbeddedFile {
  const char* name;          // e.g. "app.js"
  const char* content_type;  // from the name's extension
  const unsigned char* data;
  size_t size;
};

// The file named `name` (no directories), or null.
const EmbeddedFile* FindEmbeddedFile(std::string_view name);

}  // namespace hearth::console

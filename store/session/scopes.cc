// Scope patterns (api/include/hearth/session.h): kept apart from the session
// so that the server's configuration, and its fuzz target, use the same
// matching without the session's dependencies.
#include "hearth/session.h"

namespace hearth {

bool ScopeMatches(const std::vector<std::string>& patterns, const std::string& name) {
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (p == name) {
      return true;
    }
  }
  return false;
}

}  // namespace hearth

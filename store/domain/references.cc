// References, not free text (api/include/hearth/references.h).
#include "hearth/references.h"

#include <string>

namespace hearth {

bool IsReference(std::string_view text) {
  if (text.empty() || text.size() > kMaxReferenceBytes) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckReference(std::string_view what, std::string_view value) {
  if (value.empty() || IsReference(value)) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " must be a reference (1-" +
                                 std::to_string(kMaxReferenceBytes) +
                                 " of A-Z a-z 0-9 . _ : @ -), not free text (" +
                                 std::to_string(value.size()) + " bytes given)");
}

Status CheckActor(const Actor& actor) {
  if (Status s = CheckReference("actor.user", actor.user); !s.ok()) return s;
  if (Status s = CheckReference("actor.role", actor.role); !s.ok()) return s;
  return CheckReference("actor.plugin", actor.plugin);
}

Status CheckPurpose(std::string_view purpose) {
  if (purpose.empty() || IsReference(purpose)) return Status::OK();
  return Status::InvalidArgument("purpose must be a code (1-" +
                                 std::to_string(kMaxReferenceBytes) +
                                 " of A-Z a-z 0-9 . _ : @ -, e.g. caseWork), not free text (" +
                                 std::to_string(purpose.size()) + " bytes given)");
}

}  // namespace hearth

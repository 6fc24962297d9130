// hearth: references, not free text.
//
// What the envelope says about who acted (actor user, role and plugin) is
// stored in plaintext in the log and inside its Merkle leaves, where no
// erasure can reach it; the purpose of a read is copied into an access record
// per subject per read. So each must be an opaque reference or code — a staff
// number, a role code, a plugin name, a purpose code — never a name, an NHS
// number with a name, or a sentence. Every front end (the TLS server, the C
// ABI host, the command line) checks them here, at the Session boundary and
// in `hearth append` (docs/plugins.md, docs/cli.md).
#pragma once

#include <string_view>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth {

// The longest reference or purpose code.
constexpr size_t kMaxReferenceBytes = 64;

// True for 1..64 of [A-Za-z0-9._:@-].
bool IsReference(std::string_view text);

// OK when `value` is empty (not stated) or a reference; otherwise
// InvalidArgument "<what> must be a reference (1-64 of A-Z a-z 0-9 . _ : @ -),
// not free text" (the value itself is not repeated: it may be personal).
Status CheckReference(std::string_view what, std::string_view value);

// CheckReference on actor.user, actor.role and actor.plugin.
Status CheckActor(const Actor& actor);

// The purpose of a read: empty (logged as "unstated") or a code of 1..64 of
// the same alphabet (e.g. "caseWork", "sar:R-12", "complaint"). InvalidArgument
// naming `purpose` otherwise.
Status CheckPurpose(std::string_view purpose);

}  // namespace hearth

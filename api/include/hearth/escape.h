// hearth: text made safe for the two places outside text ends up in files
// people open: log lines and CSV cells. Header-only, so plugins built without
// the library (plugins/worklist-file) use the same rules.
#pragma once

#include <string>
#include <string_view>

namespace hearth {

// A log line's text with every control character written as an escape, so
// that stream names, user ids, certificate names or any client-supplied text
// cannot end a line early, forge another line or drive a terminal: C0
// controls and DEL become \xHH, the C1 controls (U+0080-U+009F, UTF-8 C2 80 to
// C2 9F) become \u00HH. Idempotent: escaping an escaped line changes nothing,
// so a line may pass through more than one log (a session's refusal log into
// the server's).
inline std::string EscapeLogText(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      auto d = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[d >> 4];
      out += kHex[d & 0xf];
    } else {
      out += char(c);
    }
  }
  return out;
}

// One CSV text cell (RFC 4180), safe to open in a spreadsheet: a cell that
// begins with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with
// a single quote `'`, so that Excel, LibreOffice or Google Sheets shows it as
// text instead of evaluating it as a formula ("CSV injection"); then a cell
// holding a comma, a double quote, CR or LF is quoted, with quotes doubled.
// Numbers are not text cells: write them as they are, so that -3 stays a
// number (docs/exports.md).
inline std::string CsvCell(std::string_view text) {
  std::string cell;
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    cell = "'";
  }
  cell += text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace hearth

// The England and Wales bank holiday list, embedded at build time from
// store/domain/bank_holidays_england_wales.txt (see domain.cmake).
#pragma once

#include <string_view>

namespace hearth::domain {
extern const std::string_view kBankHolidaysEnglandWales;
}  // namespace hearth::domain

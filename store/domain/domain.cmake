# The case domain (store/domain): included from store/CMakeLists.txt so that
# its sources join the `hearth` library.
set(HEARTH_BANK_HOLIDAYS ${CMAKE_CURRENT_SOURCE_DIR}/domain/bank_holidays_england_wales.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HEARTH_BANK_HOLIDAYS})
file(READ ${HEARTH_BANK_HOLIDAYS} HEARTH_BANK_HOLIDAYS_TEXT)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/domain/bank_holidays.cc.in
  ${CMAKE_CURRENT_BINARY_DIR}/domain/bank_holidays.cc @ONLY)

hearth_layer(domain
  ${CMAKE_CURRENT_BINARY_DIR}/domain/bank_holidays.cc
  domain/dates.cc
  domain/tables.cc
  domain/codec.cc
  domain/upcasters.cc
  domain/case_fold.cc
  domain/case_codec.cc
  domain/restrictions.cc
  domain/recorder.cc
  domain/allocations.cc
  domain/breaches.cc
  domain/complaints.cc
  domain/streams.cc
  domain/documents.cc
  domain/contractors.cc
  domain/time_value.cc
  domain/references.cc
)
target_link_libraries(hearth_layer_domain PRIVATE CapnProto::capnp-json)
target_link_libraries(hearth PRIVATE CapnProto::capnp-json)

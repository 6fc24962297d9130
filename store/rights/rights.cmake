# The rights workflow (store/rights, docs/rights.md): included from
# store/CMakeLists.txt so that its sources join the `hearth` library. The
# default record of processing is data (default_processing.json), embedded.
set(HEARTH_DEFAULT_PROCESSING ${CMAKE_CURRENT_SOURCE_DIR}/rights/default_processing.json)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HEARTH_DEFAULT_PROCESSING})
file(READ ${HEARTH_DEFAULT_PROCESSING} HEARTH_DEFAULT_PROCESSING_TEXT)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/rights/default_processing.cc.in
  ${CMAKE_CURRENT_BINARY_DIR}/rights/default_processing.cc @ONLY)

hearth_layer(rights
  ${CMAKE_CURRENT_BINARY_DIR}/rights/default_processing.cc
  rights/rights.cc
  rights/pack.cc
  rights/retention.cc
  rights/models.cc
)

# The Debian package (docs/operations.md, "Installing the package"): built by
# CPack from the install rules of every target, plus the man pages written
# from the command line's --help and the systemd unit of `hearth serve`.
#
#   tools/package/build            a release build and build/release/hearth_*.deb
#   cpack -G DEB --config BUILD/CPackConfig.cmake    from any configured build

find_program(HELP2MAN_PROGRAM help2man)
set(HEARTH_MAN_DIR ${CMAKE_BINARY_DIR}/man)
if(HELP2MAN_PROGRAM)
  # Written at install time, from the installed-to-be binary of this build,
  # so that a build without packaging never pays for it.
  install(CODE "
    execute_process(
      COMMAND ${CMAKE_CURRENT_LIST_DIR}/make-man $<TARGET_FILE:hearth_cli> ${HEARTH_MAN_DIR}
      RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"tools/package/make-man failed (\${rc})\")
    endif()
  " COMPONENT Unspecified)
  install(DIRECTORY ${HEARTH_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          FILES_MATCHING PATTERN "hearth*.1.gz")
else()
  message(STATUS "help2man not found: the package will have no man pages (tools/install-deps)")
endif()

install(FILES ${CMAKE_CURRENT_LIST_DIR}/hearth.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hearth)
set(CPACK_PACKAGE_VENDOR "hearth")
set(CPACK_PACKAGE_CONTACT "hearth maintainers <hearth@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "embedded, append-only, encrypted event store for council case records")
set(CPACK_PACKAGE_DESCRIPTION
    "hearth keeps the case records of Home Improvement Agencies and council independent-living services as an append-only, encrypted event log with a verifiable Merkle tree, crypto-shredding erasure, subject-access packs and anonymised monitoring exports. This package holds the hearth command line and server, the shared library with its headers and CMake package, the in-process plugins, man pages and a hardened systemd unit.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the binaries' libraries
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# Driven by ctest (see CMakeLists.txt here).
#   MODE=doc:   docs/embedding.md shows example/example.cc and
#               example/CMakeLists.txt verbatim, and the output it prints.
#   MODE=build: installs the current build into a temporary prefix, builds the
#               example against it with find_package(hearth), runs it on a new
#               store and compares what it prints with expected_output.txt.
cmake_minimum_required(VERSION 3.25)

function(check_contains doc_text file)
  file(READ ${file} text)
  string(FIND "${doc_text}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "docs/embedding.md does not show ${file} verbatim; "
                        "copy the file into the doc's code block")
  endif()
endfunction()

if(MODE STREQUAL "doc")
  file(READ ${DOC} doc_text)
  check_contains("${doc_text}" ${SOURCE_DIR}/example/example.cc)
  check_contains("${doc_text}" ${SOURCE_DIR}/example/CMakeLists.txt)
  check_contains("${doc_text}" ${SOURCE_DIR}/expected_output.txt)
  return()
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/hearth/store.h)
  message(FATAL_ERROR "the install has no include/hearth/store.h")
endif()

# Warnings are errors here too: the doc's program must be clean.
run("configuring the example" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/example -B ${WORK_DIR}/build
    -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} -Wall -Wextra -Werror"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
run("building the example" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)

# The example must use the installed library, not the build tree's.
execute_process(COMMAND ldd ${WORK_DIR}/build/example OUTPUT_VARIABLE ldd_out RESULT_VARIABLE rc)
string(REGEX MATCH "libhearth[^\n]*" linked "${ldd_out}")
string(FIND "${linked}" "=> ${prefix}/" at)
if(NOT rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "the example does not use the installed libhearth under ${prefix}:\n${ldd_out}")
endif()

# A key file of 64 hex digits, readable by its owner only.
string(RANDOM LENGTH 64 ALPHABET 0123456789abcdef key)
file(WRITE ${WORK_DIR}/root.key "${key}\n")
file(CHMOD ${WORK_DIR}/root.key PERMISSIONS OWNER_READ OWNER_WRITE)

execute_process(COMMAND ${WORK_DIR}/build/example ${WORK_DIR}/store ${WORK_DIR}/root.key
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the example failed (${rc}):\n${out}\n${err}")
endif()
file(READ ${SOURCE_DIR}/expected_output.txt expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "the example printed:\n${out}\nexpected:\n${expected}")
endif()
message(STATUS "the example ran against ${linked}:\n${out}")

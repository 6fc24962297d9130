# Smoke check for hearth-bench: runs one suite and checks that its JSON
# object has every expected figure. Timings are never compared to targets.
#   cmake -DBENCH=<hearth-bench> -DSUITE=append -DARGS="--events;2000"
#         -DPOSITIVE="key;key" -DNUMBERS="key" -P check_json.cmake
# POSITIVE keys must be numbers > 0; NUMBERS keys any number (a cost in
# percent may be negative when the difference is within noise).
execute_process(
  COMMAND ${BENCH} ${SUITE} ${ARGS} --json --quiet
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "hearth-bench ${SUITE} exited with ${rc}:\n${err}\n${out}")
endif()
string(STRIP "${out}" out)
string(JSON kind ERROR_VARIABLE json_error TYPE "${out}")
if(json_error OR NOT kind STREQUAL "OBJECT")
  message(FATAL_ERROR "hearth-bench ${SUITE} did not print one JSON object:\n${out}")
endif()
foreach(key IN LISTS POSITIVE NUMBERS)
  string(JSON type ERROR_VARIABLE key_error TYPE "${out}" ${key})
  if(key_error OR NOT type STREQUAL "NUMBER")
    message(FATAL_ERROR "hearth-bench ${SUITE}: key ${key} is missing or not a number:\n${out}")
  endif()
endforeach()
foreach(key IN LISTS POSITIVE)
  string(JSON value GET "${out}" ${key})
  if(NOT value GREATER 0)
    message(FATAL_ERROR "hearth-bench ${SUITE}: ${key} = ${value}, expected a positive figure")
  endif()
endforeach()
message(STATUS "hearth-bench ${SUITE}: ${out}")

# The engine's layers (docs/architecture.md), lowest first. A
# folder of store/ may include headers of its own layer and of the layers
# before it, never of one after it, so dependencies run one way:
#
#   base        read-ahead, the varint codec: no other layer
#   crypto      keys, sealing, the keyring
#   merkle      RFC 6962 hashing, the frontier, proof JSON
#   log         the engine: format, commit, keys, tree store, access log,
#               the projection runner, the records replication reads and imports
#   audit       the offline verifier (reads the format, no key)
#   replication publishing and following a store's records (a follower
#               verifies what it takes with the auditor's checks)
#   domain      the case domain: codec, fold, recorder, times in JSON, references
#   json        events as JSON (the generic form and the domain codec's)
#   session     scopes, sessions and the scoped reader
#   facts       the dated facts the exports count and the cases projection keeps
#   readmodels  the cases projection, timeline, worklists
#   rights      subject access, restriction, retention, erasure
#   exports     monitoring returns, extracts, the identifiable export
#
# Headers under api/ (hearth/...) are the public surface: every layer may
# include them. Included by store/CMakeLists.txt, which checks the tree at
# configure time (a layer that includes upwards does not configure), and run
# by ctest as a script (`cmake -DROOT=<store dir> -P store/layers.cmake`),
# also over tests/layers' fixture, which must fail.
# tests/layers/symbols.cmake checks the same order at the symbol level.
set(HEARTH_LAYERS base crypto merkle log audit replication domain json session facts
    readmodels rights exports)

# Sets `out_var` to the list of violations under `root` (empty: none).
function(hearth_layer_violations root layers out_var)
  set(problems "")
  file(GLOB entries RELATIVE ${root} ${root}/*)
  foreach(dir IN LISTS entries)
    if(NOT IS_DIRECTORY ${root}/${dir})
      continue()
    endif()
    list(FIND layers ${dir} mine)
    if(mine EQUAL -1)
      list(APPEND problems "store/${dir}/ is in no layer: give it a place in HEARTH_LAYERS")
      continue()
    endif()
    file(GLOB_RECURSE files RELATIVE ${root} ${root}/${dir}/*.h ${root}/${dir}/*.cc ${root}/${dir}/*.in)
    foreach(file IN LISTS files)
      file(STRINGS ${root}/${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[a-z_]+/")
      foreach(line IN LISTS includes)
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([a-z_]+)/.*" "\\1" to "${line}")
        list(FIND layers ${to} theirs)
        if(theirs GREATER mine)
          list(APPEND problems "store/${file} includes ${to}/, a layer above ${dir}/")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(${out_var} "${problems}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT DEFINED ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<store dir> -P layers.cmake")
  endif()
  hearth_layer_violations(${ROOT} "${HEARTH_LAYERS}" problems)
  if(problems)
    list(JOIN problems "\n  " text)
    message(FATAL_ERROR "the layers are crossed upwards:\n  ${text}")
  endif()
  message(STATUS "layers: every include runs downwards")
endif()

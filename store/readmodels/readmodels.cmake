# The case read models (store/readmodels): included from store/CMakeLists.txt
# so that their sources join the `hearth` library, beside the domain they read.
hearth_layer(readmodels
  readmodels/cases_projection.cc
  readmodels/common.cc
  readmodels/describe.cc
  readmodels/proofs.cc
  readmodels/rights_requests_projection.cc
  readmodels/timeline.cc
  readmodels/worklist.cc
  readmodels/models.cc
  readmodels/params.cc
)

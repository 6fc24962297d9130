# The monitoring exports (store/exports): included from store/CMakeLists.txt
# so that their sources join the `hearth` library, beside the domain they read.
hearth_layer(exports
  exports/collect.cc
  exports/fact_source.cc
  exports/disclosure.cc
  exports/kpi.cc
  exports/ledger.cc
  exports/extract.cc
  exports/models.cc
  exports/money.cc
)

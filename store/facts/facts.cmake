# The dated facts (store/facts): a case's facts as the exports count them and
# the `cases` projection keeps them; below the read models and the exports.
hearth_layer(facts
  facts/fold.cc
  facts/facts_codec.cc
  facts/money.cc
  facts/timescales.cc
)

// A store opened with the built-in event codec, for the commands that decode
// and record domain events themselves (`hearth allocation`, `hearth breach`).
#pragma once

#include <memory>
#include <string>

#include "commands.h"
#include "hearth/domain.h"
#include "hearth/readmodels.h"

namespace hearth::cli {

struct CodecStore {
  domain::UpcasterRegistry upcasters;  // the codec points into it: kept alive with it
  std::unique_ptr<domain::Codec> codec;
  std::unique_ptr<Store> store;
};

// Opens the store at `data` with the key from `key` (or HEARTH_PASSPHRASE).
// With `projections`, the store runs the read models' projections (the
// year's money reads the cases projection's dated facts).
inline Result<std::unique_ptr<CodecStore>> OpenCodecStore(const std::string& data, const KeyOptions& key,
                                                          bool projections = false) {
  auto source = ResolveKey(key.key_file, kPassphraseEnv, "--key-file");
  if (!source.ok()) return source.status();
  auto out = std::make_unique<CodecStore>();
  domain::AddBuiltinUpcasters(&out->upcasters);
  auto codec = domain::Codec::Create(&out->upcasters);
  if (!codec.ok()) return codec.status();
  out->codec = std::move(*codec);
  auto store = OpenStore(data, *source,
                         projections ? readmodels::MakeProjections(out->codec.get())
                                     : std::vector<std::shared_ptr<Projection>>{});
  if (!store.ok()) return store.status();
  out->store = std::move(*store);
  return out;
}

}  // namespace hearth::cli

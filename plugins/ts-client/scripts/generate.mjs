// Generates TypeScript from hearth's Cap'n Proto schemas with capnp-es (which
// runs the `capnp` compiler from Debian's capnproto package) into gen/.
// The schema directory is HEARTH_SCHEMA_DIR, or ../../api/schema from here.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const schemaDir = resolve(process.env.HEARTH_SCHEMA_DIR ?? join(root, "..", "..", "api", "schema"));
const out = join(root, "gen");
mkdirSync(out, { recursive: true });
const schemas = ["envelope.capnp", "protocol.capnp", "domain.capnp"].map((f) => join(schemaDir, f));
execFileSync(
  join(root, "node_modules", ".bin", "capnp-es"),
  [...schemas, `--src-prefix=${schemaDir}`, `-ots:${out}`],
  { stdio: ["ignore", "ignore", "inherit"] },
);

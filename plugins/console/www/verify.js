// Checks, in the browser, that an event is in the log a signed checkpoint
// commits to (docs/tamper-evidence.md): RFC 9162 inclusion proofs with
// SHA-256 (leaf 0x00 || bytes, node 0x01 || left || right) and the
// checkpoint's Ed25519 signature, both with WebCrypto. The page trusts
// nothing the server says about the outcome: only the hashes and the key.

export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) {
    throw new Error('not hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; ++i) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; ++i) d |= a[i] ^ b[i];
  return d === 0;
}

async function nodeHash(left, right) {
  const m = new Uint8Array(1 + left.length + right.length);
  m[0] = 1;
  m.set(left, 1);
  m.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', m));
}

// RFC 9162 section 2.1.3.2: whether `path` leads from the leaf hash at
// `leafIndex` in a tree of `treeSize` leaves to `rootHex`.
export async function verifyInclusion(leafIndex, treeSize, leafHex, path, rootHex) {
  try {
    let fn = BigInt(leafIndex);
    let sn = BigInt(treeSize) - 1n;
    if (fn > sn) return false;
    let r = fromHex(leafHex);
    for (const p of path.map(fromHex)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equal(r, fromHex(rootHex));
  } catch (e) {
    return false;
  }
}

function be64(n) {
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; --i) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

// The signed message: "hearth checkpoint v1\n" || size (8 BE) || root (32)
// || time in microseconds (8 BE).
export function checkpointMessage(cp) {
  const head = new TextEncoder().encode('hearth checkpoint v1\n');
  const root = fromHex(cp.root);
  const m = new Uint8Array(head.length + 8 + root.length + 8);
  m.set(head, 0);
  m.set(be64(cp.size), head.length);
  m.set(root, head.length + 8);
  m.set(be64(cp.timeMicros), head.length + 8 + root.length);
  return m;
}

// Throws when the browser has no Ed25519 in WebCrypto.
export async function verifyCheckpoint(cp, publicKeyHex) {
  const key = await crypto.subtle.importKey('raw', fromHex(publicKeyHex), { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, fromHex(cp.signature), checkpointMessage(cp));
}

// Cap'n Proto's standard stream framing (docs/protocol.md):
//
//   frame = (segmentCount - 1):u32le, size[0..segmentCount-1]:u32le each,
//           a u32 of padding when segmentCount is even, then the segments;
//           each size counts 8-byte words.
//
// FrameReader cuts a byte stream into whole frames; each frame is then read
// with `new capnp.Message(frame, false)` (false: not packed).

/** Most segments a frame may declare before it is refused (the server's limit too). */
export const MAX_SEGMENTS = 64;

export class FramingError extends Error {}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxFrameBytes frames larger than this are refused (the server's maxMessageBytes). */
  constructor(private readonly maxFrameBytes: number) {}

  /** Adds received bytes; returns every frame now complete, in order. */
  push(data: Buffer): Uint8Array[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      const size = this.nextFrameSize();
      if (size === undefined || this.buffered < size) break;
      frames.push(this.take(size));
    }
    return frames;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  // The whole size of the frame at the front, or undefined until its segment
  // table has arrived.
  private nextFrameSize(): number | undefined {
    if (this.buffered < 8) return undefined;
    const head = this.peek(8);
    const segments = head.readUInt32LE(0) + 1;
    if (segments > MAX_SEGMENTS) {
      throw new FramingError(`a frame declares ${segments} segments (at most ${MAX_SEGMENTS})`);
    }
    const tableBytes = 4 * (1 + segments) + (segments % 2 === 0 ? 4 : 0);
    if (this.buffered < tableBytes) return undefined;
    const table = this.peek(tableBytes);
    let words = 0;
    for (let i = 0; i < segments; i++) words += table.readUInt32LE(4 + 4 * i);
    const total = tableBytes + words * 8;
    if (total > this.maxFrameBytes) {
      throw new FramingError(`a frame of ${total} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    return total;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    // A copy: the message reader must not alias Node's pooled buffers.
    const frame = new Uint8Array(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return frame;
  }
}

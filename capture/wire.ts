/**
 * The loader -> TypeScript stream (docs/wire-format.md, bpf/ior.h): an
 * 8-byte preamble (magic, version), then frames of an 8-byte header
 * {u32 type, u32 len} and `len` bytes of payload. FrameReader turns the
 * pipe's chunks into whole frames without copying more than it must.
 */
import { IorError } from '../common/errors.js';

export const WIRE_MAGIC = 0x31524f49; // "IOR1"
export const WIRE_VERSION = 2;

export const FrameType = { HELLO: 1, EVENTS: 2, STATS: 3, LOG: 4, END: 5 } as const;
export type FrameTypeId = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameTypeId;
  payload: Buffer;
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private sawPreamble = false;

  /** Feed bytes from the pipe; returns every frame now complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (!this.sawPreamble) {
        if (this.buffered < 8) break;
        const pre = this.take(8);
        const magic = pre.readUInt32LE(0);
        const version = pre.readUInt32LE(4);
        if (magic !== WIRE_MAGIC) throw new IorError(`the loader spoke an unknown protocol (magic 0x${magic.toString(16)}): loader and ior are from different builds; rebuild`, 2);
        if (version !== WIRE_VERSION) throw new IorError(`the loader speaks wire version ${version}, this ior reads ${WIRE_VERSION}: rebuild both from one tree`, 2);
        this.sawPreamble = true;
        continue;
      }
      if (this.buffered < 8) break;
      const head = this.peek(8);
      const len = head.readUInt32LE(4);
      if (this.buffered < 8 + len) break;
      const type = head.readUInt32LE(0) as FrameTypeId;
      this.take(8);
      frames.push({ type, payload: this.take(len) });
    }
    return frames;
  }

  /** Bytes received that do not yet make a whole frame (non-zero at EOF = loader died mid-frame). */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.coalesce();
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.coalesce();
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  private coalesce(): void {
    this.chunks = [Buffer.concat(this.chunks)];
  }
}

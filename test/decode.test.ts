import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EventDecoder, PathResolver } from '../capture/index.js';
import { TraceWriter } from '../trace/index.js';
import type { HelloFrame, SyscallEntry } from '../schema/index.js';
import { fixtureFooter, readTrace, tempDir } from './helpers/fixture.js';

const PID = 4242;
const none = { fd2: -1, dirfd: -1, path: -1, dirfd2: -1, path2: -1, offset: -1, flags: -1, mode: -1, pos: -1 };
const syscalls: SyscallEntry[] = [
  { id: 0, name: 'read', nargs: 3, kind: 'plain', ...none, fd: 0, count: 2 },
  { id: 1, name: 'newfstat', nargs: 2, kind: 'plain', ...none, fd: 0, count: -1 },
];
const hello = {
  event_size: 104, async_size: 24, syscalls,
  records: { fork: 0xff01, exec: 0xff02, exit: 0xff03, aio_submit: 0xff04, aio_reap: 0xff05, uring_submit: 0xff06, uring_complete: 0xff07, uring_file: 0xff08 },
} as unknown as HelloFrame;

/** One struct ior_event (bpf/ior.h) with no path. */
function record(id: number, seq: number, ret: bigint, offset: bigint, count: bigint): Buffer {
  const b = Buffer.alloc(104);
  b.writeBigUInt64LE(1_000_000n + BigInt(seq), 0); // ts_ns
  b.writeBigUInt64LE(500n, 8); // latency_ns
  b.writeBigInt64LE(ret, 16);
  b.writeBigInt64LE(offset, 24);
  b.writeBigInt64LE(count, 32);
  b.writeUInt32LE(PID, 40);
  b.writeUInt32LE(PID, 44);
  b.writeInt32LE(3, 48); // fd
  b.writeInt32LE(-1, 52);
  b.writeInt32LE(-1, 56);
  b.writeInt32LE(-1, 60);
  b.writeUInt16LE(id, 72);
  b.writeUInt8(1, 74); // regular file
  b.writeUInt8(id === 0 ? 0x08 : 0, 75); // read: offset is the position at entry
  b.write('loop', 80);
  return b;
}

test('a reused decoder batch carries nothing over from the rows before (bytes, offset, count), across batches and row groups', async () => {
  const dir = tempDir('decode');
  const file = path.join(dir, 'r.parquet');
  const writer = TraceWriter.create(file, 4); // row groups of 4 rows: boundaries inside the decoder's batches
  const resolver = new PathResolver();
  resolver.seed(PID, '/', { '3': '/data/x' });
  const decoder = new EventDecoder(hello, resolver, [], (b) => writer.append(b), 3); // batches of 3 rows, refilled
  const n = 11;
  // read and fstat alternate, so each slot of the batch holds a read in one batch and an fstat in the next
  decoder.decode(Buffer.concat(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? record(0, i, 100n, BigInt(100 * i), 100n) : record(1, i, 0n, -1n, -1n)))));
  decoder.flush();
  writer.finish(fixtureFooter(n));
  const { rows } = await readTrace(file);
  assert.equal(rows.length, n);
  rows.forEach((r, i) => {
    const read = i % 2 === 0;
    assert.deepEqual(
      { seq: r.seq, ts_ns: r.ts_ns, syscall: r.syscall, bytes: r.bytes, offset: r.offset, count: r.count, path: r.path, comm: r.comm },
      { seq: BigInt(i), ts_ns: 1_000_000n + BigInt(i), syscall: read ? 'read' : 'newfstat', bytes: read ? 100n : 0n, offset: read ? BigInt(100 * i) : null, count: read ? 100n : null, path: '/data/x', comm: 'loop' },
      `row ${i}`,
    );
  });
  fs.rmSync(dir, { recursive: true });
});

test('an fd number another thread reused before the close event arrived: the late close names its own file and leaves the new one open', () => {
  const r = new PathResolver('/nonexistent-proc');
  r.seed(PID, '/', {});
  // thread A opens a (returns at 100) and closes fd 5 entering at 200; thread B's open gets 5 back at 210,
  // B's write and close follow, then C's open gets 5 at 400; only then does A's close event arrive
  r.opened(PID, 5, '/d/a', false, 100);
  r.opened(PID, 5, '/d/b', false, 210);
  assert.equal(r.fdPath(PID, 5, true, 220), '/d/b', "B's write");
  assert.equal(r.fdPath(PID, 5, true, 190), '/d/a', 'a call that entered before B had the fd');
  assert.equal(r.closingPath(PID, 5, true, 300), '/d/b');
  r.closed(PID, 5, 300);
  r.opened(PID, 5, '/d/c', false, 400);
  assert.equal(r.closingPath(PID, 5, true, 200), '/d/a', "A's late close");
  r.closed(PID, 5, 200);
  assert.equal(r.fdPath(PID, 5, true, 410), '/d/c', "C's file stays open");
  assert.equal(r.closingPath(PID, 5, true, 500), '/d/c');
  r.closed(PID, 5, 500);
  assert.equal(r.fdPath(PID, 5), null, 'all closed');
  // dup2 closes what its target held itself: no late close is waited for
  r.opened(PID, 6, '/d/x', false, 600);
  r.opened(PID, 6, '/d/y', false, 700, true);
  assert.equal(r.closingPath(PID, 6, true, 650), null, 'a close entering before the dup2 of fd 6 had no file of the trace to close');
  assert.equal(r.unresolved, 1, 'the one fd /proc could not name: 5 after every close');
});

/**
 * bench/pipeline.ts: how many events/s the Node side of a capture sustains.
 * A loader stream is recorded once (iowork-loop, as bench/capture.ts section
 * 5 does), then, in this process and with no loader running:
 *   - decode alone: EVENTS frames to EventBatches, batches dropped;
 *   - write alone: the same batches (decoded beforehand) to zstd Parquet;
 *   - pipeline: decode + write, as `ior capture` runs them.
 * Rounds are interleaved and medians reported. Each figure is given as
 * events/s of wall-clock time and as CPU time per event (the process's
 * user + system time, all threads): on a shared machine the CPU figure and
 * the ratios between the three are steadier than the wall-clock rates.
 *
 *   node build/bench/pipeline.js [--quick] [--keep-stream FILE]
 * --keep-stream records into FILE once and reuses it on later runs
 * (profiling: node --cpu-prof build/bench/pipeline.js --keep-stream FILE).
 */
import { formatCount } from '../common/format.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../common/assets.js';
import { EventDecoder, FrameReader, FrameType, PathResolver } from '../capture/index.js';
import type { Frame } from '../capture/wire.js';
import { HelloFrameSchema, type EventBatch, type HelloFrame } from '../schema/index.js';
import { TraceWriter } from '../trace/index.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 1 : 3;
const LOOP_ITERS = Number(process.env.IOR_BENCH_LOOP_ITERS ?? (QUICK ? 50_000 : 200_000)); // x8 syscalls
const BUILD = path.join(REPO_ROOT, 'native', 'build');
const keepAt = process.argv.indexOf('--keep-stream');
const KEEP = keepAt > 0 ? process.argv[keepAt + 1] : undefined;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The loader's byte stream while iowork-loop runs (the loader writes it to fd 3). */
function recordStream(stream: string, dir: string): void {
  const fd = fs.openSync(stream, 'w');
  const args = ['--ring-mb', '64', '--out-fd', '3', '--', path.join(BUILD, 'iowork-loop'), path.join(dir, 'pipe.dat'), String(LOOP_ITERS)];
  const r = spawnSync(path.join(BUILD, 'ior-loader'), args, { stdio: ['ignore', 'pipe', 'inherit', fd] });
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`ior-loader exited ${r.status ?? r.signal}`);
}

function decodeAll(hello: HelloFrame, events: Frame[], onBatch: (b: EventBatch) => void): number {
  const decoder = new EventDecoder(hello, new PathResolver(), [], onBatch);
  for (const f of events) decoder.decode(f.payload);
  decoder.flush();
  return Number(decoder.events);
}

interface Timing {
  seconds: number;
  cpuSeconds: number;
}

/** Wall-clock and CPU seconds `fn` takes. */
function timed(fn: () => void): Timing {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  fn();
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function main(): void {
  if (process.getuid?.() !== 0) {
    console.log('pipeline bench: skipped (needs root for BPF)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ior-bench-pipeline-'));
  try {
    const stream = KEEP ?? path.join(dir, 'loader.stream');
    if (!KEEP || !fs.existsSync(KEEP)) recordStream(stream, dir);
    const frames = new FrameReader().push(fs.readFileSync(stream));
    const hello = HelloFrameSchema.parse(JSON.parse(frames.find((f) => f.type === FrameType.HELLO)!.payload.toString()));
    const events = frames.filter((f) => f.type === FrameType.EVENTS);
    const batches: EventBatch[] = [];
    // the decoder reuses its batch: keep copies (slice copies typed and plain arrays alike)
    const n = decodeAll(hello, events, (b) => batches.push(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, typeof v === 'number' ? v : (v as unknown[]).slice()])) as unknown as EventBatch));
    const out = path.join(dir, 'pipe.parquet');

    // every row group compressed and written; the footer is a few KB and not timed
    const write = (feed: (writer: TraceWriter) => void): Timing & { bytes: number } => {
      fs.rmSync(out, { force: true });
      const writer = TraceWriter.create(out);
      const t = timed(() => {
        feed(writer);
        writer.flushRowGroup();
      });
      const bytes = writer.bytesWritten;
      writer.abort();
      return { ...t, bytes };
    };
    const times = { decode: [] as Timing[], write: [] as Timing[], pipeline: [] as Timing[] };
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      times.decode.push(timed(() => decodeAll(hello, events, () => {})));
      times.write.push(write((w) => batches.forEach((b) => w.append(b))));
      const p = write((w) => decodeAll(hello, events, (b) => w.append(b)));
      times.pipeline.push(p);
      bytes = p.bytes;
    }
    const figures = (ts: Timing[]) => ({ rate: n / median(ts.map((t) => t.seconds)), cpuNs: (1e9 * median(ts.map((t) => t.cpuSeconds))) / n });
    const [decode, writeOnly, pipeline] = [figures(times.decode), figures(times.write), figures(times.pipeline)];
    const line = (name: string, f: { rate: number; cpuNs: number }) => `  ${name.padEnd(15)}${formatCount(f.rate).padStart(12)} events/s ${f.cpuNs.toFixed(0).padStart(6)} ns CPU/event`;
    console.log(`pipeline bench: ${n} events (${KEEP ? KEEP : `iowork-loop, ${LOOP_ITERS} iterations`}), ${ROUNDS} round(s), medians; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log(line('decode alone', decode));
    console.log(line('write alone', writeOnly));
    console.log(`${line('decode + write', pipeline)}  (rate ${(pipeline.rate / decode.rate).toFixed(2)} of decode alone, ${(pipeline.rate / writeOnly.rate).toFixed(2)} of write alone)`);
    console.log(`  ${(bytes / n).toFixed(2)} bytes/event on disk (row groups, no footer)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();

/**
 * capture/: from kernel events to a trace file.
 * runCapture (the whole capture, as `ior capture` runs it), and its parts for
 * tests and benchmarks: the wire FrameReader, the EventDecoder, the
 * PathResolver (fd table), the LoaderProcess.
 */
export { runCapture, lossesFrom, type CaptureOptions, type CaptureSummary } from './session.js';
export { EventDecoder } from './decode.js';
export { PathResolver, AT_FDCWD } from './fd-table.js';
export { FrameReader, FrameType, WIRE_MAGIC, WIRE_VERSION } from './wire.js';
export { LoaderProcess, loaderArgs } from './loader.js';

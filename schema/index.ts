/**
 * schema/: the TypeScript side of ior's data contract.
 * - COLUMNS: the per-event columns (Parquet schema derives from them)
 * - EventBatch / TraceEvent: in-memory shapes, TraceEventSchema (Zod)
 * - AIO_OPS / URING_OPS: names of async operations (schema version 2)
 * - PROCESS_FORK / _EXEC / _EXIT: process lifecycle rows (schema version 4)
 * - FooterSchema: the trace footer (Zod), SCHEMA_VERSION
 * - InitStateSchema: the initial state a replay target needs, stored in the trace under INIT_KEY
 * The loader -> TypeScript wire format is in docs/wire-format.md.
 */
export * from './async.js';
export * from './columns.js';
export * from './event.js';
export * from './footer.js';
export * from './init.js';
export * from './lifecycle.js';
export * from './wire.js';

/** Bounds every planner-supplied value is held to. One place, so the relay, connector and daemon agree. */
export const LIMITS = {
  /** Task text, in UTF-8 bytes. */
  taskBytes: 64 * 1024,
  /** Operator-chosen names (workspaces, executors, validations). */
  nameLength: 64,
  /** One `artifacts.get` call returns at most this many bytes. */
  artifactChunkBytes: 1024 * 1024,
  /** Longest long-poll (`events.list` waitMs, `steps.wait` timeoutMs). */
  waitMs: 30_000,
  /** Largest page of a list verb. */
  pageSize: 100,
  /** Largest `events.list` page. */
  eventsPageSize: 500,
  /**
   * Serialized events of one `events.list` page, in bytes: a quarter of a frame, so the page still fits once the
   * relay wraps it again (an MCP text result escapes every quote and backslash of it).
   */
  eventsPageBytes: 512 * 1024,
  /** Parallel attempts of one step. */
  attempts: 4,
  /** Validations named by one step. */
  validationsPerStep: 16,
  /** Free-text reasons (gate decisions, aborts). */
  reasonLength: 2000,
  /** Run titles. */
  titleLength: 200,
  /** Idempotency keys. */
  idempotencyKeyLength: 128,
  /** Step timeout bounds. */
  stepTimeoutMs: { min: 1_000, max: 24 * 60 * 60 * 1000, default: 30 * 60 * 1000 },
  /** The longest deadline a request frame may carry (the relay caps every call's wait at it). */
  frameDeadlineMs: 120_000,
  /** A whole relay↔connector frame, serialized. Fits one artifact chunk in base64 plus its envelope. */
  frameBytes: 2 * 1024 * 1024,
} as const;

export { openDatabase, migrate, DatabaseTooNewError } from './database.js';
export { MIGRATIONS, APPEND_ONLY_TABLES, type Migration } from './migrations.js';
export { Store, TransitionRefusedError, type AttemptPatch, type AuditInput, type DispatchStepInput, type EventInput, type ValidationInput } from './store.js';
export { LedgerReader, type ListRunsQuery } from './reads.js';
export { EventBus, type BusNotice } from './event-bus.js';
export { verifyAuditChain, auditRowHash, GENESIS_HASH, type AuditVerifyResult } from './audit-chain.js';
export { checkProjections, rebuildProjections, type ProjectionDifference } from './rebuild.js';
export { attemptTransitionAllowed, stepTransitionAllowed, runTransitionAllowed } from '../runs/state-machine.js';

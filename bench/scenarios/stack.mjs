/**
 * The real Sluice stack for scenarios: the built bins of the daemon, relay and connector as separate processes,
 * wired with their CLIs by the end-to-end harness in test/helpers (one definition of "how an operator sets it up").
 */
export { DaemonNode, RelayNode, ConnectorNode, addMachine, startStack } from '../../test/helpers/stack.mjs';
export { McpPlanner, HttpPlanner } from '../../test/helpers/planner.mjs';

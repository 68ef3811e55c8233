export { defaultHomeEntries, defaultHosts } from './adapter-defaults.js';
export { sandboxAvailability } from './availability.js';
export type { Availability, SandboxTools } from './availability.js';
export { AttemptSandbox, PROTECTED_HOME_ENTRIES, SandboxRefusal } from './confine.js';
export type { AttemptSandboxSpec, ChildSpec } from './confine.js';
export type { Destination } from './egress-proxy.js';
export { sandboxWarnings, workspaceSandboxStatus } from './status.js';
export type { SandboxStatus } from './status.js';

// Types for scripts/install-node.mjs (plain ESM so the installer runs without a build).
export const NODE_TOOLS_DIR: string;
export function pinnedMajors(): string[];
export function pinnedVersion(major: string): string;
export function platformProblem(platform?: string, arch?: string): string | undefined;
export function nodeCacheRoot(env?: Record<string, string | undefined>): string;
export function nodePrefix(major: string, env?: Record<string, string | undefined>): string;

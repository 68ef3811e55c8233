export function findNpmCli(): string | undefined;
export function npmEnv(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
export function runNpm(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<string>;

export const RELEASE_0_1_0: string;
/** Build a released commit into a temp folder (reused once built); returns the folder. */
export function buildOldRelease(commit?: string): string;

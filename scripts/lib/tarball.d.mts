export function readTarball(file: string): Map<string, Buffer>;
export function sha256(bytes: Buffer): string;

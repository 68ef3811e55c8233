export interface PackResult {
  tarball: string;
  commit: string;
  dirty: boolean;
  version: string;
  files: number;
  manifestSha256: string;
  unpackedBytes: number;
  tarballBytes: number;
}
export function verifyTarball(tarball: string): { files: number; manifestSha256: string; unpackedBytes: number };
export function packRelease(opts: { out: string; allowDirty?: boolean }): Promise<PackResult>;

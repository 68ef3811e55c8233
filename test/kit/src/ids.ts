let counter = 0;

/** A ULID-shaped id of a kind prefix, unique within the test process. */
export function fakeId(prefix: 'run' | 'stp' | 'att' | 'gat' | 'ins' | 'art'): string {
  counter++;
  return `${prefix}_01JD${String(counter).padStart(22, '0')}`;
}

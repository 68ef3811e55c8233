import { provideTestPostgres } from '@sluice/test-kit';

/** One throwaway PostgreSQL cluster per vitest run, for the PostgreSQL store and replica suites; stopped afterwards. */
export default async function setup(): Promise<() => Promise<void>> {
  return provideTestPostgres();
}

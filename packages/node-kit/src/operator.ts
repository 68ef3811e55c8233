import { userInfo } from 'node:os';
import { localActor } from '@sluice/shared-protocol';

/** The `local:` actor of the user running this process, as audit rows and ledger entries name them. */
export function operatorActor(): string {
  let name = 'operator';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep the generic name.
  }
  return localActor(name);
}

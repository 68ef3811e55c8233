export { git, GIT_ENV, makeRepo, operatorFingerprint } from './repo.js';
export { fakeId } from './ids.js';
export { seededRandom } from './random.js';
export { PLANNER_SCOPES, rowCounts, tablesOf, type SqlHandle } from './facts.js';
export { waitUntil, WaitTimeout } from './wait.js';
export { FrameTap } from './frame-tap.js';
export { FakeConnector, NO_ANSWER, workspace, type AuthOptions, type Handler, type UpgradeResult } from './fake-connector.js';
export { FakeRelay, FakeSession } from './fake-relay.js';
export { FAKE_CLIS, fakePath, installFakeClis } from './fake-clis.js';

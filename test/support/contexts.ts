/** A member's request context (as in docs/interop.md#notifications), shared by the bus tests. */
import type { RequestContext } from '../../src/auth/context.js';

export const ALICE_CONTEXT: RequestContext = {
  userId: 'a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d',
  userName: 'alice',
  userDomainId: 'default',
  userDomainName: 'Default',
  projectId: '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4',
  projectName: 'demo',
  projectDomainId: 'default',
  projectDomainName: 'Default',
  domainId: null,
  domainName: null,
  roles: ['member', 'reader'],
  isAdminProject: true,
  systemScope: null,
  requestId: 'req-7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  authToken: 'gAAAAABexampletoken',
};

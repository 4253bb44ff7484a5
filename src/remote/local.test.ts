import { LocalRemote } from './local.ts';
import { remoteContract } from './remote.case.ts';

remoteContract('LocalRemote', async () => ({ remote: new LocalRemote('operator'), cleanup: async () => {} }));

import { describePersistence } from '../../test/contracts/broker-persistence-suite.js';
import { MemoryPersistence } from './persistence.js';

describePersistence('memory', () => ({ persistence: new MemoryPersistence() }), { durable: false });

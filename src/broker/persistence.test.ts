import { describePersistence } from '../../test/broker/persistence-suite.js';
import { MemoryPersistence } from './persistence.js';

describePersistence('memory', () => ({ persistence: new MemoryPersistence() }), { durable: false });

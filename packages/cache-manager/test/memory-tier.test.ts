import { memoryTier } from '../src/index.js';
import { testContext, tierContract } from './contract.js';

tierContract('memoryTier', async (namespace) => {
  const tier = memoryTier({ maxEntries: 100 });
  tier.attach(testContext(namespace));
  return { tier };
});

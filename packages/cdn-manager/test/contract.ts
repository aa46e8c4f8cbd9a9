/** One suite every provider runs, the memory provider included. */
import { isNoaError } from '@noa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdnProvider, PurgeKind } from '../src/index.js';

export interface ContractSetup {
  provider: CdnProvider;
  close(): Promise<void>;
}

const sample: Record<Exclude<PurgeKind, 'everything'>, string[]> = {
  urls: ['https://www.example.com/a.css', 'https://www.example.com/b.js', '/c.html'],
  prefixes: ['https://www.example.com/img/'],
  tags: ['product-1', 'product-2'],
  hosts: ['www.example.com'],
};

export function providerContract(label: string, setup: () => Promise<ContractSetup>): void {
  describe(`provider contract: ${label}`, () => {
    let ctx: ContractSetup;
    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(() => ctx?.close());

    it('reports capabilities that match what plan() accepts', () => {
      const caps = ctx.provider.capabilities();
      for (const kind of ['urls', 'prefixes', 'tags', 'hosts'] as const) {
        const plan = ctx.provider.plan({ [kind]: sample[kind] });
        expect(plan.unsupported.length === 0, `${kind}: capabilities ${caps[kind]}`).toBe(caps[kind]);
        if (caps[kind]) expect(plan.requests.length).toBeGreaterThan(0);
      }
      expect(ctx.provider.plan({ everything: true }).unsupported.length === 0).toBe(caps.everything);
    });

    it('purges URLs: one result, counts equal to the URLs, requests equal to the plan', async () => {
      const plan = ctx.provider.plan({ urls: sample.urls });
      const result = await ctx.provider.purge({ urls: sample.urls });
      expect(result.ok).toBe(true);
      expect(result.provider).toBe(ctx.provider.name);
      expect(result.purged.urls).toBe(3);
      expect(result.requests).toBe(plan.requests.length);
      expect(result.failures).toEqual([]);
    });

    it('purges everything it says it can', async () => {
      const caps = ctx.provider.capabilities();
      for (const kind of ['tags', 'prefixes', 'hosts'] as const) {
        if (!caps[kind]) continue;
        const result = await ctx.provider.purge({ [kind]: sample[kind] });
        expect(result.ok, kind).toBe(true);
        expect(result.purged[kind]).toBe(sample[kind].length);
      }
    });

    it('refuses what it cannot do with NOA_CDN_UNSUPPORTED, before sending anything', async () => {
      const caps = ctx.provider.capabilities();
      for (const kind of ['tags', 'prefixes', 'hosts'] as const) {
        if (caps[kind]) continue;
        const error = await ctx.provider.purge({ urls: sample.urls, [kind]: sample[kind] }).catch((e) => e);
        expect(isNoaError(error, 'NOA_CDN_UNSUPPORTED'), String(error)).toBe(true);
      }
    });

    it('rejects invalid requests with NOA_CDN_INVALID_PURGE', async () => {
      for (const bad of [
        {},
        { urls: [''] },
        { urls: ['ftp://x/y'] },
        { tags: ['has space'] },
        { urls: 'nope' },
      ]) {
        const error = await ctx.provider.purge(bad as never).catch((e) => e);
        expect(isNoaError(error, 'NOA_CDN_INVALID_PURGE'), JSON.stringify(bad)).toBe(true);
      }
    });
  });
}

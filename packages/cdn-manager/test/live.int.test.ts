/**
 * Live purges against the real provider APIs, run only when credentials are in the environment
 * (never in CI by default). Each purges one harmless URL or tag you name.
 */
import { describe, expect, it } from 'vitest';
import { akamai } from '../src/providers/akamai.js';
import { cloudflare } from '../src/providers/cloudflare.js';
import { cloudfront } from '../src/providers/cloudfront.js';
import { fastly } from '../src/providers/fastly.js';

const env = process.env;
const live = {
  cloudflare: env.CLOUDFLARE_API_TOKEN && env.CLOUDFLARE_ZONE_ID && env.CLOUDFLARE_TEST_URL,
  fastly: env.FASTLY_API_TOKEN && env.FASTLY_SERVICE_ID && env.FASTLY_TEST_URL,
  akamai:
    env.AKAMAI_HOST &&
    env.AKAMAI_CLIENT_TOKEN &&
    env.AKAMAI_CLIENT_SECRET &&
    env.AKAMAI_ACCESS_TOKEN &&
    env.AKAMAI_TEST_URL,
  cloudfront: env.CLOUDFRONT_DISTRIBUTION_ID && env.AWS_ACCESS_KEY_ID && env.CLOUDFRONT_TEST_PATH,
};

describe.skipIf(!live.cloudflare)(
  'live Cloudflare (skipped: set CLOUDFLARE_API_TOKEN, CLOUDFLARE_ZONE_ID, CLOUDFLARE_TEST_URL)',
  () => {
    it('purges one URL', async () => {
      const provider = cloudflare({ zoneId: env.CLOUDFLARE_ZONE_ID!, apiToken: env.CLOUDFLARE_API_TOKEN! });
      expect((await provider.purge({ urls: [env.CLOUDFLARE_TEST_URL!] })).ok).toBe(true);
    });
  },
);

describe.skipIf(!live.fastly)(
  'live Fastly (skipped: set FASTLY_API_TOKEN, FASTLY_SERVICE_ID, FASTLY_TEST_URL)',
  () => {
    it('soft-purges one URL', async () => {
      const provider = fastly({ serviceId: env.FASTLY_SERVICE_ID!, apiKey: env.FASTLY_API_TOKEN! });
      expect((await provider.purge({ urls: [env.FASTLY_TEST_URL!], soft: true })).ok).toBe(true);
    });
  },
);

describe.skipIf(!live.akamai)(
  'live Akamai (skipped: set AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET, AKAMAI_ACCESS_TOKEN, AKAMAI_TEST_URL)',
  () => {
    it('invalidates one URL on staging', async () => {
      const provider = akamai({
        host: env.AKAMAI_HOST!,
        clientToken: env.AKAMAI_CLIENT_TOKEN!,
        clientSecret: env.AKAMAI_CLIENT_SECRET!,
        accessToken: env.AKAMAI_ACCESS_TOKEN!,
        network: 'staging',
      });
      expect((await provider.purge({ urls: [env.AKAMAI_TEST_URL!], soft: true })).ok).toBe(true);
    });
  },
);

describe.skipIf(!live.cloudfront)(
  'live CloudFront (skipped: set CLOUDFRONT_DISTRIBUTION_ID, AWS credentials, CLOUDFRONT_TEST_PATH)',
  () => {
    it('invalidates one path', async () => {
      const provider = cloudfront({ distributionId: env.CLOUDFRONT_DISTRIBUTION_ID! });
      const result = await provider.purge({ urls: [env.CLOUDFRONT_TEST_PATH!] });
      await provider.close();
      expect(result.ok).toBe(true);
    }, 120_000);
  },
);

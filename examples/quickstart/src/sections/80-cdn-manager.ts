import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCdnManager, memoryProvider } from '@noa/cdn-manager';
import { akamai, edgeAuthToken } from '@noa/cdn-manager/akamai';
import { assetStats, assetUrl, optimizeAssets } from '@noa/cdn-manager/assets';
import { cloudflare } from '@noa/cdn-manager/cloudflare';
import { cloudfront } from '@noa/cdn-manager/cloudfront';
import { fastly } from '@noa/cdn-manager/fastly';

export const title = '@noa/cdn-manager: purge planning, failover, signed URLs, asset pipeline';

export async function run(): Promise<void> {
  // Purge planning: what each CDN would be sent, from the documented limits. Nothing leaves the machine.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const providers = [
    cloudfront({
      distributionId: 'E2EXAMPLE',
      keyPairId: 'K2JCJMDEHXQW5F',
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    }),
    cloudflare({ zoneId: 'zone', apiToken: 'token', plan: 'pro' }),
    fastly({ serviceId: 'svc', apiKey: 'key' }),
    akamai({
      host: 'akab-example.luna.akamaiapis.net',
      clientToken: 'c',
      clientSecret: 's',
      accessToken: 'a',
      edgeAuth: { key: 'a1b2c3d4' },
    }),
  ];
  const planner = createCdnManager({ providers });
  const urls = Array.from({ length: 10_000 }, (_, i) => `https://www.example.com/p/${i}.html`);
  const plans = planner.plan({ urls });
  console.log(
    `  10,000 URLs become: ${plans.map((p) => `${p.provider} ${p.requests.length}`).join(', ')} requests`,
  );
  const caps = planner.capabilities();
  console.log(
    `  tags: ${Object.entries(caps)
      .map(([name, c]) => `${name} ${c.tags ? 'yes' : 'no'}`)
      .join(', ')}`,
  );

  // Failover against two local fakes: the primary is down, the secondary purges.
  const primary = memoryProvider({ name: 'primary', failing: true });
  const secondary = memoryProvider({ name: 'secondary' });
  const cdn = createCdnManager({
    providers: [primary, secondary],
    mode: 'failover',
    breaker: { failureThreshold: 1 },
  });
  const result = await cdn.purge({ tags: ['product-42'], soft: true });
  console.log(`  failover: served by ${result.servedBy}; primary circuit is now ${cdn.health().primary}`);
  await cdn.close();

  // Signed URLs in each provider's form.
  const expiresAt = Date.now() + 3_600_000;
  console.log(
    `  CloudFront: ${planner.signUrl('https://d111.cloudfront.net/v.mp4', { expiresAt, provider: 'cloudfront' }).slice(0, 90)}…`,
  );
  console.log(
    `  Akamai EdgeAuth: ${planner.signUrl('https://www.example.com/v.mp4', { expiresAt, provider: 'akamai' }).slice(0, 90)}…`,
  );
  console.log(
    `  edgeAuthToken(acl): ${edgeAuthToken({ key: 'a1b2c3d4', acl: '/videos/*', windowSeconds: 300 }).slice(0, 60)}…`,
  );
  await planner.close();

  // The asset pipeline on a tiny generated site.
  const root = mkdtempSync(join(tmpdir(), 'noa-quickstart-cdn-'));
  try {
    const site = join(root, 'site');
    mkdirSync(site);
    writeFileSync(
      join(site, 'index.html'),
      '<link rel="stylesheet" href="app.css"><script type="module" src="app.js"></script>\n',
    );
    writeFileSync(
      join(site, 'app.js'),
      'export function greet(name) {\n  const message = "Hello, " + name;\n  return message;\n}\n',
    );
    writeFileSync(
      join(site, 'app.css'),
      '.button {\n  color: #ff0000;\n  margin: 0px 0px 0px 0px;\n  background: url(logo.svg);\n}\n',
    );
    writeFileSync(
      join(site, 'logo.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg"><!-- logo --><rect width="10" height="10"/></svg>',
    );
    const options = {
      inputDir: site,
      outDir: join(root, 'dist'),
      compress: ['br', 'gzip'] as ('br' | 'gzip')[],
    };
    const manifest = await optimizeAssets(options);
    console.log(`  manifest: ${JSON.stringify(manifest)}`);
    const { totals } = assetStats(manifest);
    console.log(
      `  ${totals.files} files, ${totals.bytesBefore} -> ${totals.bytesAfter} bytes; app.js -> ${manifest['app.js']}`,
    );
    console.log(`  index.html now loads: ${readFileSync(join(root, 'dist', 'index.html'), 'utf8').trim()}`);
    console.log(
      `  cache-busting URL: ${assetUrl(manifest, 'app.js', { baseUrl: 'https://cdn.example.com/' })}`,
    );
    const again = assetStats(await optimizeAssets(options)).totals;
    console.log(`  second run: ${again.skipped} of ${again.files} unchanged files skipped`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

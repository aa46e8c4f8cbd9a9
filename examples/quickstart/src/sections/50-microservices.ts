import { request } from 'node:http';
import { createQueueManager, memoryProvider } from '@noa/message-queue';
import {
  createEventBus,
  createService,
  createServiceClient,
  createServiceRegistry,
  memoryRegistry,
} from '@noa/microservices';
import { createGateway } from '@noa/microservices/gateway';

export const title = '@noa/microservices: registry, balancing, resilient client, gateway, event bus';

export async function run(): Promise<void> {
  const registry = createServiceRegistry({ backend: memoryRegistry() });
  const services = [1, 2, 3].map((n) =>
    createService({
      name: 'users',
      registry,
      signals: false,
      routes: { 'GET /users/:id': ({ params }) => ({ id: params.id, servedBy: `instance-${n}` }) },
    }),
  );
  for (const svc of services) await svc.start();
  console.log(
    `  registry: ${(await registry.instances('users', { healthyOnly: true })).length} healthy instances of "users"`,
  );

  const client = createServiceClient({ registry, service: 'users', balancer: 'round-robin' });
  const served = new Set<string>();
  for (let i = 0; i < 6; i++)
    served.add((await client.request({ path: '/users/1' })).json<{ servedBy: string }>().servedBy);
  console.log(`  client: 6 requests round-robin over ${served.size} instances`);

  // Crash one instance without deregistering: GETs are retried on the others.
  services[0]!.server.closeAllConnections();
  await new Promise<void>((resolve) => services[0]!.server.close(() => resolve()));
  let ok = 0;
  for (let i = 0; i < 20; i++) if ((await client.request({ path: '/users/2' })).status === 200) ok++;
  console.log(`  client: ${ok}/20 requests succeeded with one instance dead (retried elsewhere)`);

  const gateway = createGateway({
    registry,
    routes: [
      { prefix: '/api/v1', service: 'users', stripPrefix: true, rateLimit: { limit: 3, windowMs: 60_000 } },
    ],
  });
  const { url } = await gateway.listen({ port: 0 });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${url}/api/v1/users/7`);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  // node:http sends the path as written (fetch would resolve the dot-segments first).
  const traversal = await new Promise<number>((resolve, reject) =>
    request({ host: '127.0.0.1', port: new URL(url).port, path: '/api/v1/users/../../admin' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end(),
  );
  console.log(
    `  gateway: statuses ${statuses.join(', ')} (limit 3 per minute); /api/v1/users/../../admin -> ${traversal}`,
  );

  const queue = createQueueManager({ provider: memoryProvider() });
  const bus = createEventBus({ queue });
  const received: string[] = [];
  await bus.subscribe<{ id: number }>(
    'user.created',
    'email',
    (e) => void received.push(`email:${e.payload.id}`),
  );
  await bus.subscribe<{ id: number }>(
    'user.created',
    'analytics',
    (e) => void received.push(`analytics:${e.payload.id}`),
  );
  await bus.publish('user.created', { id: 42 });
  for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  console.log(`  event bus: one publish reached ${received.sort().join(' and ')}`);

  await bus.close();
  await queue.close();
  await gateway.close();
  await client.close();
  for (const svc of services.slice(1)) await svc.stop();
  await registry.close();
}

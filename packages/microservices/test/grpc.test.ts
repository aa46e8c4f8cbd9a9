import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { uniqueName } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrpcClient, grpcServiceDefinition } from '../src/grpc.js';
import { createServiceRegistry, memoryRegistry, type ServiceRegistry } from '../src/index.js';

const PROTO = `
syntax = "proto3";
package demo;
service Users {
  rpc GetUser (GetUserRequest) returns (User);
}
message GetUserRequest { int64 id = 1; }
message User { int64 id = 1; string name = 2; string served_by = 3; string request_id = 4; string traceparent = 5; }
`;

async function startGrpcServer(label: string) {
  const server = new Server();
  server.addService(grpcServiceDefinition(PROTO, 'demo.Users') as never, {
    GetUser: (call: ServerUnaryCall<{ id: string }, unknown>, callback: sendUnaryData<unknown>) => {
      if (call.request.id === '404') return callback({ code: status.NOT_FOUND, details: 'no such user' });
      callback(null, {
        id: call.request.id,
        name: `user ${call.request.id}`,
        served_by: label,
        request_id: String(call.metadata.get('x-request-id')[0] ?? ''),
        traceparent: String(call.metadata.get('traceparent')[0] ?? ''),
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port, label };
}

describe('gRPC client discovered through the registry (real grpc-js servers on loopback)', () => {
  let registry: ServiceRegistry;
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) s.forceShutdown();
    await registry.close();
  });

  it('balances unary calls across instances, propagates metadata, maps errors, survives a dead instance', async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    const name = uniqueName('users');
    const a = await startGrpcServer('a');
    const b = await startGrpcServer('b');
    servers.push(a.server, b.server);
    await registry.register({ name, id: 'a', address: '127.0.0.1', port: a.port });
    await registry.register({ name, id: 'b', address: '127.0.0.1', port: b.port });
    const users = createGrpcClient({
      registry,
      service: name,
      proto: PROTO,
      grpcService: 'demo.Users',
      balancer: 'round-robin',
    });
    expect(users.methods).toEqual(['GetUser']);
    const served = new Set<string>();
    for (let i = 1; i <= 4; i++) {
      const user = await users.call<{
        id: string;
        name: string;
        served_by: string;
        request_id: string;
        traceparent: string;
      }>(
        'GetUser',
        { id: i },
        { requestId: `r${i}`, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      );
      expect(user).toMatchObject({ id: String(i), name: `user ${i}`, request_id: `r${i}` });
      expect(user.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      served.add(user.served_by);
    }
    expect(served).toEqual(new Set(['a', 'b']));
    await expect(users.call('GetUser', { id: 404 })).rejects.toMatchObject({
      code: 'NOA_GRPC_ERROR',
      grpcCode: status.NOT_FOUND,
    });
    await expect(users.call('Nope', {})).rejects.toMatchObject({ code: 'NOA_GRPC_UNKNOWN_METHOD' });
    await expect(users.call('GetUser', { id: 'not a number' })).rejects.toMatchObject({
      code: 'NOA_GRPC_INVALID_MESSAGE',
    });

    a.server.forceShutdown(); // crashed, still registered
    for (let i = 0; i < 6; i++)
      expect((await users.call<{ served_by: string }>('GetUser', { id: 1 })).served_by).toBe('b');
    await users.close();
  });
});

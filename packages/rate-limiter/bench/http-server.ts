/**
 * One HTTP server for the middleware benchmark, run as its own process so the load generator does
 * not share its event loop. argv: express|fastify none|noa|peer. Prints the port.
 */
import rateLimitFastify from '@fastify/rate-limit';
import express from 'express';
import { rateLimit as expressRateLimit } from 'express-rate-limit';
import Fastify from 'fastify';
import { rateLimit } from '../src/express.js';
import { fastifyRateLimit } from '../src/fastify.js';

const [framework, variant] = process.argv.slice(2);
const LIMIT = 1_000_000_000; // never reached: the benchmark measures the admit path
const WINDOW_MS = 60_000;

if (framework === 'express') {
  const app = express();
  if (variant === 'noa') app.use(rateLimit({ algorithm: 'fixed-window', limit: LIMIT, windowMs: WINDOW_MS }));
  if (variant === 'peer') app.use(expressRateLimit({ limit: LIMIT, windowMs: WINDOW_MS }));
  app.get('/', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    console.log((server.address() as { port: number }).port);
  });
} else {
  const app = Fastify();
  if (variant === 'noa')
    await app.register(fastifyRateLimit, { algorithm: 'fixed-window', limit: LIMIT, windowMs: WINDOW_MS });
  if (variant === 'peer') await app.register(rateLimitFastify, { max: LIMIT, timeWindow: WINDOW_MS });
  app.get('/', async () => ({ hello: 'world' }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(new URL(address).port);
}

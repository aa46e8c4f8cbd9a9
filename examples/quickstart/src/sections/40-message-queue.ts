import { createQueueManager, memoryProvider } from '@noa/message-queue';

export const title = '@noa/message-queue: publish, process, retries, dead letters, dedupe, priorities, cron';

export async function run(): Promise<void> {
  // The embedded provider; swap in redisProvider / rabbitmqProvider / sqsProvider / kafkaProvider.
  const mq = createQueueManager({
    provider: memoryProvider(),
    closeOnSignals: false,
    defaults: { attempts: 3, backoff: { type: 'exponential', delayMs: 10, jitter: true } },
  });

  const sent: string[] = [];
  const worker = mq.process<{ to: string; flaky?: boolean; broken?: boolean }>(
    'emails',
    async (job) => {
      await job.progress(50);
      if (job.data.broken) throw new Error(`mailbox ${job.data.to} does not exist`);
      if (job.data.flaky && job.attempt < 2) throw new Error('SMTP timeout');
      sent.push(`${job.data.to} (attempt ${job.attempt})`);
    },
    { concurrency: 4 },
  );
  const retried: string[] = [];
  worker.on('retrying', (job, error, delayMs) =>
    retried.push(`${job.id.slice(0, 8)}: ${(error as Error).message}, again in ${delayMs} ms`),
  );

  await mq.publish('emails', { to: 'ada@example.com' });
  await mq.publish('emails', { to: 'grace@example.com', flaky: true });
  await mq.publish('emails', { to: 'nobody@example.com', broken: true });
  const first = await mq.publish('emails', { to: 'linus@example.com' }, { jobId: 'welcome-linus' });
  const again = await mq.publish('emails', { to: 'linus@example.com' }, { jobId: 'welcome-linus' });
  await mq.publishBatch('emails', [
    { data: { to: 'later@example.com' }, delayMs: 30 },
    { data: { to: 'vip@example.com' }, priority: 9 },
  ]);

  const deadline = Date.now() + 3_000;
  while ((await mq.stats('emails')).dead < 1 || sent.length < 5) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(`  processed ${sent.length} jobs: ${sent.join(', ')}`);
  console.log(`  retries with backoff and jitter: ${retried.join('; ')}`);
  console.log(`  jobId dedupe: publishing "welcome-linus" twice gave ${first.id} and ${again.id}, sent once`);
  const [dead] = await mq.deadLetters('emails').list();
  console.log(
    `  dead letter after ${dead?.attempts} attempts: "${dead?.error}" (history: ${dead?.history.map((h) => h.attempt).join(', ')})`,
  );
  console.log(`  stats: ${JSON.stringify(await mq.stats('emails'))}`);

  // Two schedulers over one backend: each cron tick becomes one job, not two.
  const other = createQueueManager({ provider: mq.provider, closeOnSignals: false });
  const ticks: string[] = [];
  mq.process('report', (job) => {
    ticks.push(job.id);
  });
  await mq.schedule('nightly-report', { cron: '* * * * * *', queue: 'report' });
  await other.schedule('nightly-report', { cron: '* * * * * *', queue: 'report' });
  const tickDeadline = Date.now() + 2_500;
  while (ticks.length < 1 && Date.now() < tickDeadline) await new Promise((r) => setTimeout(r, 20));
  console.log(`  cron: two schedulers, tick ${ticks[0] ?? '(none yet)'} published once`);

  await worker.close(); // graceful: active jobs finish first
  await mq.close();
}

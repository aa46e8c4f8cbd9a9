export type {
  ConsumeOptions,
  Delivery,
  OutgoingMessage,
  ProviderCapabilities,
  ProviderConsumer,
  QueueProvider,
  RawDeadLetter,
} from './provider.js';
export { type MemoryProviderOptions, memoryProvider } from './providers/memory.js';
export { createQueueManager, type QueueManager, type QueueManagerEvents } from './queue-manager.js';
export type {
  AttemptRecord,
  DeadLetter,
  DeadLetterQueue,
  Job,
  JobHandler,
  ProcessOptions,
  PublishBatchItem,
  PublishOptions,
  PublishResult,
  QueueManagerOptions,
  QueueStats,
  Schedule,
  ScheduleOptions,
  WorkerCloseOptions,
} from './types.js';
export type { Worker, WorkerEvents } from './worker.js';

export {
  type MongoAdapterOptions,
  type MongoDbLike,
  type MongoQuery,
  mongoAdapter,
  normalizeMongoExplain,
  normalizeMongoStage,
} from './adapters/mongodb.js';

export {
  type MysqlAdapterOptions,
  type MysqlConnectionLike,
  type MysqlPoolLike,
  mysqlAdapter,
  normalizeMysqlPlan,
} from './adapters/mysql.js';

export type { AggregateCall, AggregateRoute } from './gateway/aggregate.js';
export type { ApiKeyAuthOptions, JwtAuthOptions, RouteAuth } from './gateway/auth.js';
export type { CorsOptions } from './gateway/cors.js';
export {
  createGateway,
  type Gateway,
  type GatewayLimits,
  type GatewayOptions,
  type GatewayRoute,
  type RequestTransformContext,
  type ResponseTransformContext,
  type RouteRateLimit,
} from './gateway/gateway.js';
